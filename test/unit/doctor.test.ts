/** Doctor's pure parts: the Node range check, and the Doctor panel's page (escaping, buttons only where a fix applies). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { doctorHtml, fixLabel } from '../../client/src/doctorHtml';
import { nodeChecks, requiredNode, satisfies } from '../../server/src/doctor/nodeChecks';
import { summarize } from '../../server/src/doctor/doctor';

describe('doctor: Node version', () => {
  it('reads the ranges engines use', () => {
    const cases: [string, string, boolean | undefined][] = [
      ['20.20.2', '>=20', true],
      ['18.19.0', '>=20', false],
      ['20.11.0', '>=20.11 <23', true],
      ['23.0.0', '>=20.11 <23', false],
      ['20.12.1', '^20.11', true],
      ['21.0.0', '^20.11', false],
      ['20.11.9', '~20.11', true],
      ['20.12.0', '~20.11', false],
      ['22.1.0', '20.x || 22.x', true],
      ['21.1.0', '20.x || 22.x', false],
      ['20.0.0', 'latest', undefined],
    ];
    for (const [v, range, want] of cases) assert.equal(satisfies(v, range), want, `${v} in ${range}`);
  });

  it('finds our package.json and judges this Node against it', () => {
    assert.equal(requiredNode(), '>=20');
    assert.equal(nodeChecks('18.0.0', '>=20')[0].status, 'fail');
    assert.match(nodeChecks('18.0.0', '>=20')[0].fix!.description, /install Node >=20/);
    assert.equal(nodeChecks('20.1.0', '>=20')[0].status, 'pass');
  });
});

describe('doctor: the panel\'s page', () => {
  const report = summarize([
    { id: 'a', title: 'Thing <one>', status: 'fail', detail: 'bad "quote" & <script>alert(1)</script>', fix: { description: 'do <this>', action: 'stop-processes:20260101-000000-aaaa' } },
    { id: 'b', title: 'Other', status: 'warn', detail: 'say it', fix: { description: 'only words' } },
    { id: 'c', title: 'Fine', status: 'pass', detail: 'ok' },
  ]);

  it('escapes every text and offers a button only for a fix doctor can apply', () => {
    const html = doctorHtml({ report }, 'NONCE', 'vscode-resource:');
    assert.ok(!html.includes('<script>alert(1)</script>'));
    assert.ok(html.includes('bad &quot;quote&quot; &amp; &lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('Thing &lt;one&gt;'));
    assert.equal((html.match(/<button data-action=/g) ?? []).length, 1);
    assert.ok(html.includes('<button data-action="stop-processes:20260101-000000-aaaa">Stop Them</button>'));
    assert.ok(html.includes('→ only words</div>'));
    assert.ok(html.includes('3 checks: 1 passed, 1 warnings, 1 failed'));
    // Only scripts and styles with the nonce run.
    assert.match(html, /script-src 'nonce-NONCE'/);
    assert.equal((html.match(/<script nonce="NONCE">/g) ?? []).length, 1);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
  });

  it('says what the last fix did, and labels a resume as one', () => {
    const html = doctorHtml({ report, outcome: { action: 'chmod-secrets', ok: false, message: 'cannot <chmod>' } }, 'N', 'x');
    assert.ok(html.includes('Not done: cannot &lt;chmod&gt;'));
    assert.equal(fixLabel('resume:20260101-000000-aaaa'), 'Resume');
    assert.equal(fixLabel('chmod-secrets'), 'Fix');
  });
});

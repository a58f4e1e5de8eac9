/**
 * `.orchestrator/config.yaml` in the editor: the REAL built host (server/out/server.js) over stdio.
 * Diagnostics at exact ranges (unknown keys with a did-you-mean, bad values, YAML that does not
 * parse), updated on change; completion of keys and of `type:` values; hover. Build first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hoverText, LspClient, messageOf, positionOf, summarize } from './lspClient';

let n = 0;
/** A config file URI in a folder of its own (the host knows it by its path: .orchestrator/config.yaml). */
function configUri(): string {
  return `file:///tmp/orchestrator-host-config-${process.pid}-${n++}/.orchestrator/config.yaml`;
}

const labels = (items: { label: string }[]): string[] => items.map((i) => i.label);

describe('config.yaml in the host (LSP over stdio)', () => {
  let client: LspClient;

  before(async () => {
    client = await LspClient.start({ initializationOptions: { logLevel: 'info', trusted: true } });
  });

  after(async () => {
    await client?.stop();
  });

  it('diagnostics: each problem at its key or value, with a code and a message that says what to do', async () => {
    const text = [
      '# team settings', //                 0
      'concurency: 4', //                   1 concurency at 0..10
      'retention:', //                      2
      '  kep: 3', //                        3 kep at 2..5
      '  max_age: soon', //                 4 soon at 11..15
      'providers:', //                      5
      '  local:', //                        6
      '    type: opneai', //                7 opneai at 10..16
      '',
    ].join('\n');
    const uri = configUri();
    const pub = await client.openAndWait(uri, text);
    assert.deepEqual(pub.diagnostics.map(summarize), ['unknown-key@1:0-1:10', 'unknown-key@3:2-3:5', 'bad-value@4:11-4:15', 'bad-value@7:10-7:16']);
    assert.deepEqual(pub.diagnostics.map(messageOf), [
      "unknown key 'concurency'. Did you mean 'concurrency'?",
      "unknown key 'kep' in retention. Did you mean 'keep'?",
      "retention.max_age must be a duration such as 30d, 12h or 90m, not 'soon'",
      "providers.local.type must be one of openai, anthropic, command, claude-code, codex, gemini, opencode, aider, not 'opneai'",
    ]);
    assert.deepEqual(pub.diagnostics.map((d) => [d.severity, d.source]), [[2, 'orchestrator'], [2, 'orchestrator'], [1, 'orchestrator'], [1, 'orchestrator']]);

    // Fixed as you type: the next version has no problems.
    const from = client.mark(uri);
    await client.replaceAll(uri, 2, 'concurrency: 4\nretention:\n  keep: 3\n  max_age: 30d\nproviders:\n  local:\n    type: openai\n');
    const fixed = await client.waitForDiagnostics(uri, { version: 2, from });
    assert.deepEqual(fixed.diagnostics, []);

    // YAML that does not parse: an error where the parser stopped.
    const from3 = client.mark(uri);
    await client.replaceAll(uri, 3, 'retention: [\n');
    const broken = await client.waitForDiagnostics(uri, { version: 3, from: from3 });
    assert.equal(broken.diagnostics.length, 1);
    assert.equal(broken.diagnostics[0].code, 'yaml');
    assert.match(messageOf(broken.diagnostics[0]), /^does not parse: /);
    await client.close(uri);
  });

  it('completion: the keys valid at the cursor that are not there yet, and the values of type:', async () => {
    const text = 'concurrency: 2\nretention:\n  keep: 3\n  \nproviders:\n  local:\n    type: op\n';
    const uri = configUri();
    await client.openAndWait(uri, text);
    const top = await client.completion(uri, { line: 7, character: 0 });
    assert.deepEqual(labels(top), ['stuck_after', 'prices'], 'at the top level: the keys not present');
    const inRetention = await client.completion(uri, { line: 3, character: 2 });
    assert.deepEqual(labels(inRetention), ['max_age', 'max_size']);
    const doc = inRetention.find((i) => i.label === 'max_age')!;
    assert.match(JSON.stringify(doc.documentation), /ended longer ago than this/);
    assert.equal((doc.textEdit as { newText: string }).newText, 'max_age: ');
    const types = await client.completion(uri, positionOf(text, 'type: op', 8));
    assert.deepEqual(labels(types), ['openai', 'anthropic', 'command', 'claude-code', 'codex', 'gemini', 'opencode', 'aider']);
    assert.deepEqual((types[0].textEdit as { range: unknown }).range, { start: { line: 6, character: 10 }, end: { line: 6, character: 12 } });
    await client.close(uri);
  });

  it('completion in a provider entry: its keys; under providers: the built-in names', async () => {
    const text = 'providers:\n  local:\n    type: openai\n    \n  \n';
    const uri = configUri();
    await client.openAndWait(uri, text);
    const keys = labels(await client.completion(uri, { line: 3, character: 4 }));
    for (const k of ['model', 'base_url', 'api_key_secret', 'timeout']) assert.ok(keys.includes(k), `${k} in ${keys.join(', ')}`);
    assert.ok(!keys.includes('type'), 'type is there already');
    assert.deepEqual(labels(await client.completion(uri, { line: 4, character: 2 })), ['openai', 'anthropic', 'claude-code', 'codex', 'gemini', 'opencode', 'aider']);
    await client.close(uri);
  });

  it('hover: the documentation of the key under the cursor', async () => {
    const text = 'retention:\n  max_size: 2GB\nproviders:\n  local:\n    api_key_secret: K\n';
    const uri = configUri();
    await client.openAndWait(uri, text);
    assert.match(hoverText(await client.hover(uri, positionOf(text, 'max_size', 3))), /^\*\*max_size\*\*\n\n.*powers of 1024/s);
    assert.match(hoverText(await client.hover(uri, positionOf(text, 'api_key_secret', 2))), /never the key itself/);
    await client.close(uri);
  });

  it('other YAML files are not taken for config files, and workflow files are served as before', async () => {
    const other = `file:///tmp/orchestrator-host-config-${process.pid}/config.yaml`;
    await client.open(other, 'concurency: 4\n', 1, 'yaml');
    assert.deepEqual(await client.completion(other, { line: 0, character: 0 }), []);
    const wf = `file:///tmp/orchestrator-host-config-${process.pid}/.orchestrator/workflows/w.yaml`;
    const pub = await client.openAndWait(wf, 'name: w\nsteps:\n  - id: a\n    run: echo\n    timeout: 5x\n');
    assert.deepEqual(pub.diagnostics.map(summarize), ['bad-duration@4:13-4:15']);
    assert.equal(client.publishesFor(other).length, 0, 'no diagnostics for a config.yaml outside .orchestrator/');
    await client.close(other);
    await client.close(wf);
    assert.deepEqual(client.errorLogs(), []);
  });
});

/**
 * Real SARIF from ESLint (our formatter, `scripts/eslint-sarif.cjs`) through the real engine: a `findings:`
 * file, a `::finding` line at the same place and the built-in `findings/sarif` action merge into one
 * list, which exports as SARIF 2.1.0 (findingsToSarif and `orchestrator findings --format sarif`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Log } from 'sarif';
import { startSession } from '../../server/src/engine/sessions';
import { findingsToSarif, FINGERPRINT_KEY, SARIF_SCHEMA } from '../../server/src/engine/findings/sarif';
import { loadSession } from '../../server/src/store/sessionStore';
import { assertValidSarif } from '../helpers/sarif';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const FIXTURE = path.join(REPO, 'test', 'fixtures', 'eslint-sarif');
const ESLINT = path.join(REPO, 'node_modules', 'eslint', 'bin', 'eslint.js');
const FORMATTER = path.join(REPO, 'scripts', 'eslint-sarif.cjs');
const CLI = path.join(REPO, 'server', 'out', 'cli.js');
const UNUSED_LINE = 3;
const EQEQ_LINE = 4;

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A temp repository (with `.git`) holding the fixture, `.txt` suffixes dropped, and the workflow. */
function makeRepo(): { root: string; home: string; workflow: string } {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-eslint-sarif-')));
  made.push(base);
  const root = path.join(base, 'repo');
  const home = path.join(base, 'home');
  fs.mkdirSync(path.join(root, '.git'), { recursive: true });
  fs.mkdirSync(path.join(root, 'src'));
  fs.mkdirSync(home);
  fs.copyFileSync(path.join(FIXTURE, 'src', 'bad.js.txt'), path.join(root, 'src', 'bad.js'));
  fs.copyFileSync(path.join(FIXTURE, 'eslint.config.mjs.txt'), path.join(root, 'eslint.config.mjs'));
  const workflow = path.join(root, 'lint.workflow.yaml');
  fs.writeFileSync(
    workflow,
    `name: eslint-sarif
steps:
  - id: lint
    run: node "${ESLINT}" --config eslint.config.mjs --format "${FORMATTER}" --output-file eslint.sarif src || test -s eslint.sarif
    findings: eslint.sarif
  - id: note
    needs: lint
    run: echo "::finding severity=low file=src/bad.js line=${UNUSED_LINE} rule=no-unused-vars::a second opinion on the same place"
  - id: import
    needs: note
    uses: findings/sarif
    with: { file: eslint.sarif }
`,
  );
  return { root, home, workflow };
}

/** The structure every exported log must have. */
function checkSarif(log: Log, rules: string[]): void {
  assertValidSarif(log, 'the exported log');
  assert.equal(log.version, '2.1.0');
  assert.equal(log.$schema, SARIF_SCHEMA);
  assert.equal(log.runs.length, 1);
  const run = log.runs[0];
  assert.equal(run.tool.driver.name, 'Synapse Orchestrator');
  const ruleIds = (run.tool.driver.rules ?? []).map((r) => r.id);
  for (const r of rules) assert.ok(ruleIds.includes(r), `rule ${r} is listed in ${JSON.stringify(ruleIds)}`);
  const results = run.results ?? [];
  assert.ok(results.length >= rules.length);
  for (const res of results) {
    assert.ok(res.ruleId && ruleIds.includes(res.ruleId), `ruleId ${res.ruleId} is a listed rule`);
    assert.equal(ruleIds[res.ruleIndex!], res.ruleId);
    assert.ok(res.level && ['error', 'warning', 'note', 'none'].includes(res.level));
    assert.equal(typeof res.message.text, 'string');
    assert.ok(res.message.text!.length > 0);
    const loc = res.locations?.[0]?.physicalLocation;
    assert.equal(loc?.artifactLocation?.uri, 'src/bad.js');
    assert.equal(typeof loc?.region?.startLine, 'number');
    assert.match(res.partialFingerprints?.[FINGERPRINT_KEY] ?? '', /^[0-9a-f]{16}$/);
  }
  const unused = results.find((r) => r.ruleId === 'no-unused-vars');
  assert.equal(unused?.level, 'error', 'the highest severity (high) wins');
  assert.equal(unused?.locations?.[0]?.physicalLocation?.region?.startLine, UNUSED_LINE);
}

describe('ESLint SARIF through the engine', () => {
  it('an agent\'s finding on the same place merges with ESLint\'s and the ::finding line', async () => {
    const srv = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const answer = `The variable is never read.\n\`\`\`findings\n[{"severity": "medium", "message": "dead variable", "file": "src/bad.js", "line": ${UNUSED_LINE}, "rule": "no-unused-vars"}]\n\`\`\`\n`;
        res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: answer } }] })}\n\n`);
        res.end('data: [DONE]\n\n');
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const { root, home, workflow } = makeRepo();
      fs.mkdirSync(path.join(root, '.orchestrator'), { recursive: true });
      fs.writeFileSync(path.join(root, '.orchestrator', 'config.yaml'), `providers:\n  local:\n    type: openai\n    base_url: http://127.0.0.1:${(srv.address() as AddressInfo).port}/v1\n    model: m\n`);
      const text = fs.readFileSync(workflow, 'utf8').replace('steps:\n', 'agents:\n  reviewer: { provider: local }\nsteps:\n');
      fs.writeFileSync(workflow, `${text}  - id: review\n    needs: import\n    agent: reviewer\n    prompt: Review src/bad.js\n`);
      const s = await startSession(workflow, {}, { repoRoot: root, homeDir: home });
      await s.done;
      const st = loadSession(root, s.id).state;
      assert.equal(st.status, 'succeeded', JSON.stringify(st.steps, null, 1));
      const unused = st.findings.find((f) => f.rule === 'no-unused-vars')!;
      assert.deepEqual(
        unused.sources.map((x) => [x.step, x.source.replace(/^sarif:ESLint.*/, 'sarif:ESLint'), x.severity]),
        [
          ['lint', 'sarif:ESLint', 'high'],
          ['note', 'annotation', 'low'],
          ['import', 'sarif:ESLint', 'high'],
          ['review', 'agent', 'medium'],
        ],
      );
      assert.deepEqual(unused.conflict?.severities, ['high', 'medium', 'low']);
      const log = findingsToSarif(st.findings, { toolName: 'Synapse Orchestrator', version: '0.1.0', root });
      checkSarif(log, ['no-unused-vars', 'eqeqeq']);
      assert.equal((log.runs[0].results!.find((r) => r.ruleId === 'no-unused-vars')!.properties!.sources as unknown[]).length, 4);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('merges a findings: file, a ::finding line and findings/sarif into one list and exports it as SARIF', async () => {
    const { root, home, workflow } = makeRepo();
    const s = await startSession(workflow, {}, { repoRoot: root, homeDir: home });
    await s.done;
    const st = loadSession(root, s.id).state;
    assert.equal(st.status, 'succeeded', JSON.stringify(st.steps, null, 1));
    assert.ok(fs.existsSync(path.join(root, 'eslint.sarif')));
    assertValidSarif(JSON.parse(fs.readFileSync(path.join(root, 'eslint.sarif'), 'utf8')), 'ESLint\'s SARIF (scripts/eslint-sarif.cjs)');

    // ESLint reports two problems; each is reported by lint and import, the unused one also by note.
    assert.equal(st.rawFindings.length, 5, JSON.stringify(st.rawFindings, null, 1));
    assert.equal(st.findings.length, 2, JSON.stringify(st.findings, null, 1));
    for (const f of st.findings) {
      assert.equal(f.file, 'src/bad.js', 'absolute file:// URIs become paths relative to the repo');
      assert.match(f.source, /^sarif:ESLint/);
      assert.equal(f.step, 'lint');
      assert.equal(f.severity, 'high', 'ESLint errors are level error → high');
    }
    const unused = st.findings.find((f) => f.rule === 'no-unused-vars');
    const eqeq = st.findings.find((f) => f.rule === 'eqeqeq');
    assert.ok(unused && eqeq, JSON.stringify(st.findings, null, 1));
    assert.equal(unused.line, UNUSED_LINE);
    assert.equal(eqeq.line, EQEQ_LINE);
    assert.match(unused.message, /unused/);
    assert.deepEqual(
      unused.sources.map((x) => [x.step, x.severity]),
      [
        ['lint', 'high'],
        ['note', 'low'],
        ['import', 'high'],
      ],
    );
    assert.match(unused.sources[2].source, /^sarif:ESLint/);
    assert.equal(unused.sources[1].message, 'a second opinion on the same place');
    assert.deepEqual(unused.conflict, { severities: ['high', 'low'], resolution: 'highest severity wins' });
    assert.deepEqual(
      eqeq.sources.map((x) => x.step),
      ['lint', 'import'],
    );
    assert.equal(eqeq.conflict, undefined);

    // Export: the library function, then the CLI.
    const rules = ['no-unused-vars', 'eqeqeq'];
    const log = findingsToSarif(st.findings, { toolName: 'Synapse Orchestrator', version: '0.1.0', root });
    checkSarif(log, rules);
    const props = log.runs[0].results!.find((r) => r.ruleId === 'no-unused-vars')!.properties!;
    assert.equal((props.sources as unknown[]).length, 3);
    assert.deepEqual(props.conflict, unused.conflict);

    if (!fs.existsSync(CLI)) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
    const env = { ...process.env };
    delete env.ORCHESTRATOR_REPO;
    const out = execFileSync(process.execPath, [CLI, 'findings', s.id, '--format', 'sarif'], { cwd: root, env, encoding: 'utf8' });
    const fromCli = JSON.parse(out) as Log;
    checkSarif(fromCli, rules);
    assert.deepEqual(fromCli, JSON.parse(JSON.stringify(log)), 'the CLI exports the same log');
  });
});

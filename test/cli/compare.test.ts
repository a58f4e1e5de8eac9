/** `orchestrator findings ID --compare`: new and fixed against the previous session of the same workflow. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { assertValidSarif } from '../helpers/sarif';

const CLI = path.join(__dirname, '..', '..', 'server', 'out', 'cli.js');
const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-compare-'));
fs.mkdirSync(path.join(repo, '.git'));
after(() => fs.rmSync(repo, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ORCHESTRATOR_REPO: repo } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The workflow reports the findings listed in findings.txt (one `::finding` line each). */
function runWith(lines: string[]): string {
  fs.writeFileSync(path.join(repo, 'findings.txt'), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(repo, 'scan.workflow.yaml'), 'name: scan\nsteps:\n  - id: scan\n    run: cat findings.txt\n');
  const r = cli('run', 'scan.workflow.yaml', '--json');
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

describe('findings --compare', () => {
  const sql = '::finding severity=high file=src/db.ts line=12 rule=sql-injection::SQL built from input';
  const todo = '::finding severity=low file=src/a.ts line=3 rule=todo::a TODO';
  const xss = '::finding severity=medium file=src/view.ts line=40 rule=xss::unescaped output';
  let first = '';
  let second = '';

  it('the first session of a workflow: everything is new', () => {
    first = runWith([sql, todo]);
    const r = cli('findings', first, '--compare', '--json');
    const j = JSON.parse(r.stdout) as { previous?: string; new: { rule: string }[]; fixed: unknown[] };
    assert.equal(j.previous, undefined);
    assert.deepEqual(j.new.map((f) => f.rule).sort(), ['sql-injection', 'todo']);
    assert.deepEqual(j.fixed, []);
  });

  it('the next one: what appeared is new, what disappeared is fixed', () => {
    second = runWith([sql, xss]);
    const j = JSON.parse(cli('findings', second, '--compare', '--json').stdout) as { previous: string; new: { rule: string }[]; unchanged: { rule: string }[]; fixed: { rule: string }[] };
    assert.equal(j.previous, first);
    assert.deepEqual(j.new.map((f) => f.rule), ['xss']);
    assert.deepEqual(j.unchanged.map((f) => f.rule), ['sql-injection']);
    assert.deepEqual(j.fixed.map((f) => f.rule), ['todo']);
    const table = cli('findings', second, '--compare').stdout;
    assert.match(table, new RegExp(`compared with session ${first}: 1 new, 1 unchanged, 1 fixed`));
    assert.match(table, /new\s+medium\s+src\/view\.ts:40\s+xss/);
    assert.match(table, /fixed\s+low\s+src\/a\.ts:3\s+todo/);
    assert.match(cli('show', second).stdout, new RegExp(`2 finding\\(s\\) \\(1 new, 1 fixed since ${first}\\)`));
  });

  it('as SARIF: baselineState new, unchanged and absent', () => {
    const out = cli('findings', second, '--compare', '--format', 'sarif').stdout;
    assertValidSarif(JSON.parse(out));
    const log = JSON.parse(out) as { runs: { results: { ruleId?: string; baselineState?: string }[] }[] };
    const states = Object.fromEntries(log.runs[0].results.map((r) => [r.ruleId, r.baselineState]));
    assert.deepEqual(states, { xss: 'new', 'sql-injection': 'unchanged', todo: 'absent' });
  });
});

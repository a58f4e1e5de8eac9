/**
 * `orchestrator migrate` killed at every point where a crash can happen (the crash points of
 * store/migrate.ts and store/migrateJournal.ts: ORCHESTRATOR_TEST_CRASH_AT=N makes the REAL CLI
 * SIGKILL itself at the N-th, so each instant is hit exactly, without time windows). After each:
 *   - the release before versions (the old reader, built from git history) still lists the three
 *     sessions with their statuses, before anything settles the migration;
 *   - this release (the new reader) reads exactly what the old release read from the old folder;
 *   - after that read the migration is all or nothing: every session's files are byte for byte the
 *     old ones (killed before COMPLETE: rolled back, no backup) or the upgraded ones (after: rolled
 *     forward, backup kept), and no journal or prepared file is left.
 * The same when killed from outside at random instants (seeded; the seed is printed), and a reader
 * killed while it finishes or undoes the migration leaves it to the next reader.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, cliEnv } from '../cli/cliProcess';
import { buildOldCli, OLD_RELEASE } from '../helpers/oldRelease';
import { copyFixture, EXPECTED, filesOf, fixtureFiles, IDS, sessionsOf, upgraded } from '../helpers/stateFixture';
import { loadSession } from '../../server/src/store/sessionStore';
import { rng } from '../helpers/random';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(cli: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`orchestrator ${args.join(' ')} hung\n${stderr}`));
    }, 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-crash-migrate-'));
after(() => fs.rmSync(base, { recursive: true, force: true }));
let n = 0;

/** A fresh repository holding the format-1 fixture. */
function fresh(): { root: string; env: NodeJS.ProcessEnv } {
  const root = path.join(base, `r${++n}`);
  fs.mkdirSync(path.join(root, '.git'), { recursive: true });
  fs.mkdirSync(path.join(root, '.home'));
  copyFixture(root);
  return { root, env: cliEnv(path.join(root, '.home')) };
}

function json<T>(r: Run, what: string): T {
  assert.equal(r.code, 0, `${what}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Kills `migrate` at crash point `at` (1-based); asserts it died there. */
async function migrateKilledAt(root: string, env: NodeJS.ProcessEnv, at: number): Promise<void> {
  const r = await run(CLI, ['migrate'], root, { ...env, ORCHESTRATOR_TEST_CRASH_AT: String(at) });
  assert.equal(r.signal, 'SIGKILL', `migrate was to be killed at crash point ${at}; it exited ${r.code}\n${r.stdout}${r.stderr}`);
}

/** What `show ID --json` prints, read in this process (the spawned `list` before it settled the folder). */
function shown(root: string, id: string): unknown {
  const { rawFindings: _r, workflow, ...rest } = loadSession(root, id).state;
  return JSON.parse(JSON.stringify({ ...rest, workflow: { name: workflow.name, file: workflow.file, hash: workflow.hash } }));
}

/** The new reader reads what the old release read; afterwards the folder is all old or all new, and clean. */
async function assertSettled(root: string, env: NodeJS.ProcessEnv, forward: boolean, what: string): Promise<void> {
  assert.deepEqual(json(await run(CLI, ['list', '--json'], root, env), `${what}: list`), EXPECTED.list, what);
  for (const id of IDS) assert.deepEqual(shown(root, id), EXPECTED.show[id], `${what}: ${id}`);
  for (const id of IDS) {
    const now = filesOf(root, id);
    if (forward) {
      const want = upgraded(id);
      assert.ok(now.log.equals(want.log), `${what}: ${id}'s log is not the upgraded one`);
      assert.deepEqual(JSON.parse(now.state!.toString()), want.state, `${what}: ${id}'s state`);
    } else {
      const old = fixtureFiles(id);
      assert.ok(now.log.equals(old.log), `${what}: ${id}'s log is not the old one`);
      assert.ok(now.state!.equals(old.state), `${what}: ${id}'s state is not the old one`);
    }
    assert.deepEqual(fs.readdirSync(path.join(sessionsOf(root), id)).filter((f) => f.includes('migrating')), [], `${what}: prepared files left in ${id}`);
  }
  const names = fs.readdirSync(sessionsOf(root));
  assert.equal(fs.existsSync(path.join(sessionsOf(root), '.migration', 'plan.json')), false, `${what}: the journal is left`);
  assert.equal(names.filter((f) => f.startsWith('.backup-format-1-')).length, forward ? 1 : 0, `${what}: backups ${names.join(' ')}`);
}

describe('migrate killed at any instant', () => {
  let points: string[] = [];
  let oldCli: string | undefined;

  before(async () => {
    const { root, env } = fresh();
    const trace = path.join(root, 'trace');
    const r = await run(CLI, ['migrate'], root, { ...env, ORCHESTRATOR_TEST_CRASH_TRACE: trace });
    assert.equal(r.code, 0, r.stderr);
    points = fs.readFileSync(trace, 'utf8').trim().split('\n').map((l) => l.replace(/^\d+ /, ''));
    oldCli = await buildOldCli();
  });
  after(() => {
    if (oldCli) fs.rmSync(path.dirname(oldCli), { recursive: true, force: true });
  });

  it('leaves a folder that the old and the new reader load, migrated all or not at all', async (t) => {
    if (!oldCli) t.diagnostic(`the release ${OLD_RELEASE} is not in this clone's history: only the new reader is checked`);
    const complete = points.indexOf('complete') + 1;
    assert.ok(complete > 1 && points.length > complete + 5, points.join(', '));
    for (let at = 1; at <= points.length; at++) {
      const what = `killed at ${at} (${points[at - 1]})`;
      const { root, env } = fresh();
      await migrateKilledAt(root, env, at);
      if (oldCli) {
        // The old release knows no journal: it reads whatever is there (a copy, so that it settles nothing here).
        const copy = `${root}-old`;
        fs.cpSync(root, copy, { recursive: true });
        const listed = json<{ id: string; status: string }[]>(await run(oldCli, ['list', '--json'], copy, env), `${what}: the old reader`);
        assert.deepEqual(listed.map((s) => [s.id, s.status]), EXPECTED.list.map((s) => [s.id, s.status]), `${what}: the old reader`);
      }
      await assertSettled(root, env, at >= complete, what);
      if (at === 1 || at === complete - 1 || at === complete || at === points.length) {
        // And a migrate afterwards finishes the job.
        const again = json<{ migrated: unknown[] }>(await run(CLI, ['migrate', '--json'], root, env), `${what}: migrate again`);
        assert.equal(again.migrated.length, at >= complete ? 0 : 3, what);
      }
    }
  });

  it('killed from outside at random instants (not only at crash points): all old or all new, and read as before', async (t) => {
    const seed = Number(process.env.ORCH_TEST_SEED ?? Date.now() % 1_000_000);
    t.diagnostic(`seed ${seed} (ORCH_TEST_SEED=${seed} repeats it)`);
    const random = rng(seed);
    for (let i = 0; i < 6; i++) {
      const { root, env } = fresh();
      const trace = path.join(root, 'trace');
      const after = Math.floor(random() * (points.length + 1)); // kill once this many crash points have passed
      const child = spawn(process.execPath, [CLI, 'migrate'], { cwd: root, env: { ...env, ORCHESTRATOR_TEST_CRASH_TRACE: trace }, stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
      let done = false;
      void exited.then(() => (done = true));
      const lines = (): number => (fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8').split('\n').length - 1 : 0);
      while (!done && lines() < after) await new Promise((r) => setImmediate(r));
      child.kill('SIGKILL');
      await exited;
      const what = `seed ${seed}, run ${i}: killed after ${after} crash points`;
      assert.deepEqual(json(await run(CLI, ['list', '--json'], root, env), what), EXPECTED.list, what);
      for (const id of IDS) assert.deepEqual(shown(root, id), EXPECTED.show[id], `${what}: ${id}`);
      const forward = filesOf(root, IDS[0]).log[1] === 0x22 && filesOf(root, IDS[0]).log.toString('utf8', 0, 5) === '{"v":';
      await assertSettled(root, env, forward, what);
    }
  });

  it('a reader killed while it finishes or undoes the migration leaves it to the next reader', async () => {
    // Before COMPLETE (the reader rolls back) and in the middle of the renames (it rolls forward).
    const cases = [points.findIndex((p) => p.startsWith('backup ')) + 2, points.findIndex((p) => p.startsWith('committed ')) + 2];
    const complete = points.indexOf('complete') + 1;
    for (const at of cases) {
      for (let m = 1; ; m++) {
        const what = `migrate killed at ${at} (${points[at - 1]}), then its reader at ${m}`;
        const { root, env } = fresh();
        await migrateKilledAt(root, env, at);
        const reader = await run(CLI, ['list', '--json'], root, { ...env, ORCHESTRATOR_TEST_CRASH_AT: String(m) });
        await assertSettled(root, env, at >= complete, what);
        if (reader.signal !== 'SIGKILL') {
          assert.ok(m > 3, `${what}: the reader passed only ${m - 1} crash points`);
          break;
        }
      }
    }
  });
});

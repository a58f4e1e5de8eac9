/**
 * Crash tests: `orchestrator run` is started as a child process and killed with SIGKILL at seeded
 * random instants (at least 50 kills per run), then the session it left is checked and resumed:
 *
 *   - log.jsonl reads without throwing (readEvents), every complete line parses, seqs are 1..n;
 *   - state.json parses (or is absent only when the log holds nothing past session.started; then
 *     `show --json` still works, rebuilt from the log);
 *   - `list --json` shows the session `interrupted` (or `succeeded` when the kill came too late);
 *   - `resume ID --quiet` exits 0 and `show --json` says succeeded, with every step succeeded and
 *     every output as expected (outputs flow along the DAG, so a lost output shows);
 *   - from the shared execution log that the steps append to: no step recorded succeeded before
 *     the resume started again after it; every step ran to its end at least once.
 *
 * Orphans: steps run in their own process groups, so killing the runner leaves its running steps
 * alive. Every process of an iteration carries CRASH_TAG=<iteration> in its environment; after the
 * kill, every process with that tag (found through /proc/<pid>/environ) is SIGKILLed with its
 * group, before anything is checked. So a leftover step can never append to the execution log
 * after the resume began (it would not break the checks anyway: a step recorded as succeeded has
 * already exited, so a leftover is always a step the resume runs again).
 *
 * The session of an iteration is the one folder under .orchestrator/sessions that appeared during it
 * (not "the newest folder": ids of sessions started in the same second did not sort by start time).
 * A kill before the folder exists leaves no session; a kill after the folder but before its first
 * event leaves a folder `show` refuses with a one-line error (exit 2); both are counted.
 *
 * The kill instants come from a seeded PRNG (CRASH_SEED, default below); what is checked does not
 * depend on them. CRASH_KILLS sets the number of kills (default 50).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readEvents } from '../../server/src/store/eventLog';
import { CLI, cliEnv, killTrees, makeRepo, processesWithEnv, runCli, sessionFolders, sleep } from '../cli/cliProcess';
import { rng } from '../helpers/random';

const SEED = Number(process.env.CRASH_SEED ?? 20261121);
const MIN_KILLS = Number(process.env.CRASH_KILLS ?? 50);
/** Iterations stop here even if fewer kills landed (a kill after the run ended is no kill). */
const MAX_ITERATIONS = MIN_KILLS + 20;


// ---- the workflow: a root, three parallel chains of three, a join and a final step (12 steps) ----

interface StepSpec {
  id: string;
  needs?: string;
  sleepMs: number;
  /** The output `value`, as a shell word (may refer to upstream outputs through expressions). */
  value: string;
  expected: string;
}

const CHAINS = { a: [40, 10, 30], b: [15, 60, 5], c: [50, 25, 35] } as const;

function buildSteps(): StepSpec[] {
  const steps: StepSpec[] = [{ id: 'root', sleepMs: 20, value: 'root', expected: 'root' }];
  const ends: Record<string, string> = {};
  for (const [name, sleeps] of Object.entries(CHAINS)) {
    let prev = 'root';
    let prevExpected = 'root';
    sleeps.forEach((ms, i) => {
      const id = `${name}${i + 1}`;
      const expected = `${id}/${prevExpected}`;
      steps.push({ id, needs: prev, sleepMs: ms, value: `${id}/\${{ steps.${prev}.outputs.value }}`, expected });
      prev = id;
      prevExpected = expected;
    });
    ends[name] = prevExpected;
  }
  const joinExpected = `join(${ends.a},${ends.b},${ends.c})`;
  steps.push({
    id: 'join',
    needs: '[a3, b3, c3]',
    sleepMs: 20,
    value: 'join(${{ steps.a3.outputs.value }},${{ steps.b3.outputs.value }},${{ steps.c3.outputs.value }})',
    expected: joinExpected,
  });
  steps.push({ id: 'final', needs: 'join', sleepMs: 10, value: 'final<${{ steps.join.outputs.value }}>', expected: `final<${joinExpected}>` });
  return steps;
}

const STEPS = buildSteps();
const STEP_IDS = STEPS.map((s) => s.id);

function workflowYaml(): string {
  const lines = ['name: crash-dag', 'concurrency: 3', 'env:', '  EXEC_LOG: exec.log', 'steps:'];
  for (const s of STEPS) {
    lines.push(`  - id: ${s.id}`);
    if (s.needs) lines.push(`    needs: ${s.needs}`);
    lines.push('    run: |');
    lines.push('      echo "start $ORCHESTRATOR_STEP_ID $ORCHESTRATOR_SESSION_ID $ORCHESTRATOR_ATTEMPT" >> "$EXEC_LOG"');
    lines.push(`      sleep ${(s.sleepMs / 1000).toFixed(3)}`);
    lines.push(`      echo "value=${s.value}" >> "$ORCHESTRATOR_OUTPUT"`);
    lines.push('      echo "done $ORCHESTRATOR_STEP_ID $ORCHESTRATOR_SESSION_ID $ORCHESTRATOR_ATTEMPT" >> "$EXEC_LOG"');
  }
  return lines.join('\n') + '\n';
}

// ---- what each iteration records ---------------------------------------------------------------

interface ShownStep {
  status: string;
  attempt: number;
  outputs: Record<string, string>;
}
interface Shown {
  id: string;
  status: string;
  steps: Record<string, ShownStep>;
}

interface Iteration {
  index: number;
  instantMs: number;
  /** Whether the SIGKILL landed (false: the run had already ended). */
  killed: boolean;
  runExit?: number | null;
  orphansKilled: number;
  session?: string;
  /** No session folder, or a folder without a single event: the kill came before the session existed. */
  outcome: 'no-session' | 'no-events' | 'interrupted' | 'finished';
  logThrew?: string;
  logSkipped?: number;
  logTorn?: boolean;
  seqProblem?: string;
  stateProblem?: string;
  stateAbsent?: boolean;
  listStatus?: string;
  listProblem?: string;
  showProblem?: string;
  succeededBefore: string[];
  logSucceededBefore: string[];
  resumeExit?: number | null;
  resumeStderr?: string;
  resumeMs?: number;
  finalProblem?: string;
  rerunAfterResume: string[];
  neverDone: string[];
  afterResumeLogProblem?: string;
}

function checkLog(file: string): { threw?: string; skipped?: number; torn?: boolean; seqProblem?: string; events: ReturnType<typeof readEvents>['events'] } {
  let r: ReturnType<typeof readEvents>;
  try {
    r = readEvents(file);
  } catch (e) {
    return { threw: e instanceof Error ? e.message : String(e), events: [] };
  }
  let seqProblem: string | undefined;
  r.events.forEach((e, i) => {
    if (!seqProblem && e.seq !== i + 1) seqProblem = `event ${i} has seq ${e.seq}, expected ${i + 1}`;
  });
  return { skipped: r.skipped, torn: r.torn, events: r.events, ...(seqProblem ? { seqProblem } : {}) };
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${what} is not JSON (${e instanceof Error ? e.message : String(e)}): ${text.slice(0, 300)}`);
  }
}

describe('orchestrator run killed with SIGKILL at random instants', { timeout: 240_000 }, () => {
  const { root, home } = makeRepo('orch-crash');
  const wf = path.join(root, 'wf.yaml');
  const execLog = path.join(root, 'exec.log');
  const iterations: Iteration[] = [];
  let calibration = { sessionAfterMs: 0, runMs: 0 };
  let totalMs = 0;

  const env = (tag: string): NodeJS.ProcessEnv => cliEnv(home, { CRASH_TAG: tag });
  const cli = (args: string[], tag = 'cli') => runCli(args, { cwd: root, env: env(tag), timeoutMs: 30_000 });

  /** Spawns `run wf.yaml --quiet`; kills it after `instantMs` unless it ended. */
  async function runAndKill(instantMs: number, tag: string, watchSession?: Set<string>): Promise<{ killed: boolean; code: number | null; ms: number; sessionAfterMs?: number }> {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, 'run', 'wf.yaml', '--quiet'], { cwd: root, env: env(tag), stdio: 'ignore' });
    let exited = false;
    const exit = new Promise<number | null>((resolve) => child.once('exit', (c) => {
      exited = true;
      resolve(c);
    }));
    let sessionAfterMs: number | undefined;
    if (watchSession) {
      // Calibration: when does the session folder appear?
      while (!exited && sessionAfterMs === undefined) {
        if (sessionFolders(root).some((f) => !watchSession.has(f))) sessionAfterMs = performance.now() - t0;
        else await sleep(2);
      }
    }
    // An infinite instant: no kill (calibration).
    if (!Number.isFinite(instantMs)) await exit;
    else await Promise.race([sleep(instantMs), exit]);
    let killed = false;
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
        killed = true;
      } catch {
        // it ended in between
      }
    }
    const code = await exit;
    return { killed, code, ms: performance.now() - t0, ...(sessionAfterMs !== undefined ? { sessionAfterMs } : {}) };
  }

  /** Kills every process left over by the iteration tagged `tag` (step processes in their own groups). */
  async function killOrphans(tag: string): Promise<number> {
    let n = 0;
    for (let round = 0; round < 5; round++) {
      const pids = processesWithEnv('CRASH_TAG', tag);
      if (!pids.length) return n;
      n += pids.length;
      killTrees(pids);
      await sleep(10);
    }
    return n;
  }

  before(async () => {
    fs.writeFileSync(wf, workflowYaml());
    fs.writeFileSync(execLog, '');
    const t0 = performance.now();
    // Calibration: the normal duration of a run, and when its session folder appears.
    const runs: { runMs: number; sessionAfterMs: number }[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await runAndKill(Number.POSITIVE_INFINITY, `calibrate-${i}`, new Set(sessionFolders(root)));
      assert.equal(r.code, 0, 'a run without a kill succeeds');
      runs.push({ runMs: r.ms, sessionAfterMs: r.sessionAfterMs ?? 0 });
    }
    calibration = { runMs: Math.max(...runs.map((r) => r.runMs)), sessionAfterMs: Math.min(...runs.map((r) => r.sessionAfterMs)) };
    const { runMs, sessionAfterMs } = calibration;
    const calibrationIds = new Set(sessionFolders(root));

    const random = rng(SEED);
    let kills = 0;
    for (let index = 0; index < MAX_ITERATIONS && kills < MIN_KILLS; index++) {
      // Some kills right at the start (before the session exists, or just as it is created); the
      // rest anywhere in the run.
      const roll = random();
      const u = random();
      const instantMs = roll < 0.1 ? u * sessionAfterMs : roll < 0.2 ? sessionAfterMs - 10 + u * 40 : sessionAfterMs * 0.8 + u * (runMs * 1.02 - sessionAfterMs * 0.8);
      const tag = `crash-${process.pid}-${index}`;
      const known = new Set(sessionFolders(root));
      const run = await runAndKill(instantMs, tag);
      if (run.killed) kills++;
      const orphansKilled = await killOrphans(tag);
      const it: Iteration = { index, instantMs: Math.round(instantMs), killed: run.killed, runExit: run.code, orphansKilled, outcome: 'no-session', succeededBefore: [], logSucceededBefore: [], rerunAfterResume: [], neverDone: [] };
      iterations.push(it);

      const created = sessionFolders(root).filter((f) => !known.has(f) && !calibrationIds.has(f));
      if (created.length === 0) continue;
      if (created.length > 1) {
        it.showProblem = `more than one new session folder: ${created.join(', ')}`;
        continue;
      }
      const sid = created[0];
      it.session = sid;
      const dir = path.join(root, '.orchestrator', 'sessions', sid);

      // The event log: readable, every complete line parses, seqs 1..n.
      const log = checkLog(path.join(dir, 'log.jsonl'));
      it.logThrew = log.threw;
      it.logSkipped = log.skipped;
      it.logTorn = log.torn;
      it.seqProblem = log.seqProblem;
      if (!log.events.length) {
        // The folder exists but the session never got its first event: nothing to resume.
        it.outcome = 'no-events';
        const show = await cli(['show', sid, '--json']);
        if (show.code !== 2 || show.stderr.trim().split('\n').length !== 1) it.showProblem = `show of a session without events: exit ${show.code}, stderr ${show.stderr}`;
        continue;
      }
      const finishedInLog = log.events.some((e) => e.type === 'session.finished');
      it.logSucceededBefore = STEP_IDS.filter((s) => log.events.some((e) => e.type === 'step.finished' && e.step === s && e.data?.status === 'succeeded'));

      // state.json: parses; absent only before the first snapshot.
      const stateFile = path.join(dir, 'state.json');
      if (fs.existsSync(stateFile)) {
        try {
          JSON.parse(fs.readFileSync(stateFile, 'utf8'));
        } catch (e) {
          it.stateProblem = `state.json does not parse: ${e instanceof Error ? e.message : String(e)}`;
        }
      } else {
        it.stateAbsent = true;
        if (log.events.length > 1) it.stateProblem = `state.json is absent although the log has ${log.events.length} events`;
      }

      const [list, show] = await Promise.all([cli(['list', '--json']), cli(['show', sid, '--json'])]);
      try {
        if (list.code !== 0) throw new Error(`list --json exited ${list.code}: ${list.stderr}`);
        const rows = parseJson<{ id: string; status: string }[]>(list.stdout, 'list --json');
        const row = rows.find((r) => r.id === sid);
        if (!row) throw new Error(`list --json does not show ${sid}`);
        it.listStatus = row.status;
        const expected = finishedInLog ? 'succeeded' : 'interrupted';
        if (row.status !== expected) throw new Error(`list --json says ${row.status}, expected ${expected}`);
      } catch (e) {
        it.listProblem = e instanceof Error ? e.message : String(e);
      }
      let before: Shown | undefined;
      try {
        if (show.code !== 0) throw new Error(`show --json exited ${show.code}: ${show.stderr}`);
        before = parseJson<Shown>(show.stdout, 'show --json');
        it.succeededBefore = STEP_IDS.filter((s) => before!.steps[s]?.status === 'succeeded');
        if (it.succeededBefore.join() !== it.logSucceededBefore.join()) throw new Error(`show says ${it.succeededBefore.join()} succeeded, the log says ${it.logSucceededBefore.join()}`);
      } catch (e) {
        it.showProblem = e instanceof Error ? e.message : String(e);
      }

      let final: Shown | undefined;
      let execOffset = fs.statSync(execLog).size;
      if (finishedInLog) {
        it.outcome = 'finished';
        final = before;
      } else {
        it.outcome = 'interrupted';
        execOffset = fs.statSync(execLog).size;
        const resume = await cli(['resume', sid, '--quiet'], `${tag}-resume`);
        it.resumeExit = resume.code;
        it.resumeMs = Math.round(resume.ms);
        if (resume.code !== 0) it.resumeStderr = resume.stderr.slice(0, 2000);
        const shown = await cli(['show', sid, '--json']);
        try {
          if (shown.code !== 0) throw new Error(`show --json after resume exited ${shown.code}: ${shown.stderr}`);
          final = parseJson<Shown>(shown.stdout, 'show --json after resume');
        } catch (e) {
          it.finalProblem = e instanceof Error ? e.message : String(e);
        }
        const after = checkLog(path.join(dir, 'log.jsonl'));
        if (after.threw || after.torn || after.skipped || after.seqProblem) it.afterResumeLogProblem = JSON.stringify({ threw: after.threw, torn: after.torn, skipped: after.skipped, seq: after.seqProblem });
      }

      // The session finished, every step succeeded with the expected output, succeeded steps kept their attempt.
      if (final && !it.finalProblem) {
        const problems: string[] = [];
        if (final.status !== 'succeeded') problems.push(`status ${final.status}`);
        for (const s of STEPS) {
          const st = final.steps[s.id];
          if (st?.status !== 'succeeded') problems.push(`${s.id} is ${st?.status}`);
          else if (st.outputs.value !== s.expected) problems.push(`${s.id} output ${JSON.stringify(st.outputs.value)}, expected ${JSON.stringify(s.expected)}`);
          if (before && it.succeededBefore.includes(s.id) && st && st.attempt !== before.steps[s.id].attempt) problems.push(`${s.id} attempt went from ${before.steps[s.id].attempt} to ${st.attempt}`);
        }
        if (problems.length) it.finalProblem = problems.join('; ');
      } else if (!final && !it.finalProblem) it.finalProblem = 'no final state';

      // The execution log: what ran after the resume began, and whether every step ran to its end.
      const lines = fs.readFileSync(execLog, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
      const afterResume = fs.readFileSync(execLog).subarray(execOffset).toString('utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
      it.rerunAfterResume = [...new Set(afterResume.filter(([kind, step, s]) => kind === 'start' && s === sid && it.succeededBefore.includes(step)).map(([, step]) => step))];
      it.neverDone = STEP_IDS.filter((step) => !lines.some(([kind, st, s]) => kind === 'done' && st === step && s === sid));
    }
    totalMs = performance.now() - t0;
  });

  after(() => {
    const count = (o: Iteration['outcome']) => iterations.filter((i) => i.outcome === o).length;
    const resumes = iterations.filter((i) => i.resumeMs !== undefined).map((i) => i.resumeMs!);
    console.log(
      `# crash: seed ${SEED}, ${iterations.length} iterations, ${iterations.filter((i) => i.killed).length} kills landed; ` +
        `no session ${count('no-session')}, session without events ${count('no-events')}, interrupted+resumed ${count('interrupted')}, finished before the kill ${count('finished')}; ` +
        `state.json absent ${iterations.filter((i) => i.stateAbsent).length}, torn log tails ${iterations.filter((i) => i.logTorn).length}, orphan processes killed ${iterations.reduce((n, i) => n + i.orphansKilled, 0)}; ` +
        `calibration: session folder after ${Math.round(calibration.sessionAfterMs)} ms, run ${Math.round(calibration.runMs)} ms; ` +
        `resume median ${resumes.sort((a, b) => a - b)[Math.floor(resumes.length / 2)] ?? 0} ms; total ${Math.round(totalMs / 1000)} s`,
    );
    if (!process.env.CRASH_KEEP) fs.rmSync(root, { recursive: true, force: true });
    else console.log(`# crash: kept ${root}`);
  });

  const bad = (f: (i: Iteration) => unknown): string => {
    const b = iterations.filter((i) => f(i));
    return b.length ? `${b.length} iteration(s):\n${b.slice(0, 5).map((i) => JSON.stringify(i)).join('\n')}` : '';
  };

  it(`kills the run at least ${MIN_KILLS} times, some before the session exists`, () => {
    assert.ok(iterations.filter((i) => i.killed).length >= MIN_KILLS, `only ${iterations.filter((i) => i.killed).length} kills landed`);
    assert.ok(iterations.some((i) => i.outcome === 'interrupted'), 'no kill interrupted a session');
    assert.equal(bad((i) => i.outcome === 'no-session' && i.session), '');
  });

  it('log.jsonl always reads (readEvents never throws), every complete line parses, seqs are 1..n', () => {
    assert.equal(bad((i) => i.logThrew), '');
    assert.equal(bad((i) => i.logSkipped), '');
    assert.equal(bad((i) => i.seqProblem), '');
  });

  it('state.json always parses (absent only before the first snapshot, then show rebuilds from the log)', () => {
    assert.equal(bad((i) => i.stateProblem), '');
    assert.equal(bad((i) => i.showProblem), '');
  });

  it('list --json shows a killed session as interrupted (succeeded when the kill came after the end)', () => {
    assert.equal(bad((i) => i.listProblem), '');
  });

  it('resume exits 0 and the session finishes: succeeded, every step succeeded with its expected output', () => {
    assert.equal(bad((i) => i.outcome === 'interrupted' && i.resumeExit !== 0), '');
    assert.equal(bad((i) => i.finalProblem), '');
    assert.equal(bad((i) => i.afterResumeLogProblem), '');
  });

  it('no step recorded as succeeded before the resume runs again after it; every step ran to its end at least once', () => {
    assert.equal(bad((i) => i.rerunAfterResume.length), '');
    assert.equal(bad((i) => (i.outcome === 'interrupted' || i.outcome === 'finished') && i.neverDone.length), '');
  });
});

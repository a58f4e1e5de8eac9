/**
 * Crash tests: `orchestrator run` is started as a child process and killed with SIGKILL at seeded
 * random points of the run (at least 50 kills per run), then the session it left is checked and
 * resumed:
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
 * Kill points are events, not instants, so the number of kills does not depend on the machine's
 * speed: the child's spawn, the appearance of its session folder, or the N-th line of its
 * log.jsonl, each followed by a small random delay. The last step waits at a gate (a marker file
 * named by CRASH_GATE) that the killed run's gate never opens, so the run cannot end before its
 * kill: every such kill lands. Every tenth iteration is "late": the gate is opened and the run is
 * killed after the N-th line past the gate (up to session.finished); those may come after the end
 * (the run then finished, which is checked too) and count only when they land. The resume's gate
 * is open.
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
 * The kill points come from a seeded PRNG (CRASH_SEED, default below); what is checked does not
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
/** Every LATE_EVERY-th iteration opens the gate before its kill (that kill may come after the end). */
const LATE_EVERY = 10;
/** Iterations stop here even if fewer kills landed: enough for MIN_KILLS gated kills, which always land. */
const MAX_ITERATIONS = Math.ceil((MIN_KILLS * LATE_EVERY) / (LATE_EVERY - 1)) + 5;


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
    // The last step waits at the gate: until it opens, the run cannot end.
    if (s.id === 'final') lines.push('      until [ -e "$CRASH_GATE" ]; do sleep 0.005; done');
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

/** Where an iteration kills the run: a checkpoint (an event), then a small random delay. */
type KillPlan =
  | { at: 'spawn'; delayMs: number }
  | { at: 'folder'; delayMs: number }
  /** After the log.jsonl holds `line` complete lines; `late`: the gate is opened first. */
  | { at: 'line'; line: number; late: boolean; delayMs: number };

interface Iteration {
  index: number;
  plan: string;
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

// The timeout is a hang guard: about 75 s on an idle machine, 350 s beside two CPU hogs and other test runs.
describe('orchestrator run killed with SIGKILL at random points', { timeout: 1_200_000 }, () => {
  const { root, home } = makeRepo('orch-crash');
  const wf = path.join(root, 'wf.yaml');
  const execLog = path.join(root, 'exec.log');
  /** The resume's gate: always open. */
  const openGate = path.join(root, 'gate-open');
  const iterations: Iteration[] = [];
  /** Lines of log.jsonl written before the run waits at the gate, and in a whole run. */
  let calibration = { gatedLines: 0, totalLines: 0 };
  let totalMs = 0;

  const env = (tag: string, gate = openGate): NodeJS.ProcessEnv => cliEnv(home, { CRASH_TAG: tag, CRASH_GATE: gate });
  const cli = (args: string[], tag = 'cli') => runCli(args, { cwd: root, env: env(tag), timeoutMs: 120_000 });
  const sessionsDir = path.join(root, '.orchestrator', 'sessions');
  const completeLines = (sid: string): number => {
    try {
      const text = fs.readFileSync(path.join(sessionsDir, sid, 'log.jsonl'), 'utf8');
      let n = 0;
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
      return n;
    } catch {
      return 0;
    }
  };

  /**
   * Spawns `run wf.yaml --quiet` with its gate closed, waits for the plan's checkpoint, and kills
   * it. `calibrate` instead opens the gate once the last step waits there and lets the run end.
   */
  async function runAndKill(plan: KillPlan | 'calibrate', tag: string, known: Set<string>): Promise<{ killed: boolean; code: number | null; gatedLines?: number; totalLines?: number }> {
    const gate = path.join(root, `gate-${tag}`);
    const child = spawn(process.execPath, [CLI, 'run', 'wf.yaml', '--quiet'], { cwd: root, env: env(tag, gate), stdio: 'ignore' });
    let exited = false;
    const exit = new Promise<number | null>((resolve) => child.once('exit', (c) => {
      exited = true;
      resolve(c);
    }));
    await new Promise<void>((resolve) => {
      child.once('spawn', resolve);
      child.once('error', () => resolve());
    });
    /** Polls `f` until it holds or the run ended; the session's events are what it waits for. */
    const until = async <T>(f: () => T | undefined): Promise<T | undefined> => {
      for (;;) {
        const v = f();
        if (v !== undefined || exited) return v;
        await sleep(1);
      }
    };
    const session = () => until(() => sessionFolders(root).find((f) => !known.has(f)));
    if (plan === 'calibrate') {
      const sid = await session();
      const finalStarted = (): number | undefined => {
        if (!sid) return undefined;
        const { events } = readEvents(path.join(sessionsDir, sid, 'log.jsonl'));
        return events.some((e) => e.type === 'step.started' && e.step === 'final') ? events.length : undefined;
      };
      const gatedLines = await until(finalStarted);
      fs.writeFileSync(gate, '');
      const code = await exit;
      return { killed: false, code, ...(gatedLines !== undefined ? { gatedLines } : {}), ...(sid ? { totalLines: completeLines(sid) } : {}) };
    }
    if (plan.at !== 'spawn') {
      const sid = await session();
      if (plan.at === 'line' && sid) {
        if (plan.late) {
          await until(() => (completeLines(sid) >= calibration.gatedLines ? true : undefined));
          fs.writeFileSync(gate, '');
        }
        await until(() => (completeLines(sid) >= plan.line ? true : undefined));
      }
    }
    await Promise.race([sleep(plan.delayMs), exit]);
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
    return { killed, code };
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
    fs.writeFileSync(openGate, '');
    const t0 = performance.now();
    // Calibration: how many log lines a run writes before its last step waits at the gate, and in all.
    const runs: { gatedLines: number; totalLines: number }[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await runAndKill('calibrate', `calibrate-${i}`, new Set(sessionFolders(root)));
      assert.equal(r.code, 0, 'a run without a kill succeeds');
      assert.ok(r.gatedLines && r.totalLines, `calibration run ${i}: the last step never started`);
      runs.push({ gatedLines: r.gatedLines, totalLines: r.totalLines });
    }
    calibration = { gatedLines: Math.min(...runs.map((r) => r.gatedLines)), totalLines: Math.min(...runs.map((r) => r.totalLines)) };
    const { gatedLines, totalLines } = calibration;
    const calibrationIds = new Set(sessionFolders(root));

    const random = rng(SEED);
    let kills = 0;
    for (let index = 0; index < MAX_ITERATIONS && kills < MIN_KILLS; index++) {
      // In every LATE_EVERY iterations: one kill right after the spawn (before the session exists),
      // one as its folder appears, one after the gate is opened; the rest after a line of the log
      // before the gate.
      const [u, v] = [random(), random()];
      const slot = index % LATE_EVERY;
      const plan: KillPlan =
        slot === LATE_EVERY - 1
          ? { at: 'line', line: gatedLines + 1 + Math.floor(u * Math.max(1, totalLines - gatedLines)), late: true, delayMs: Math.floor(v * 3) }
          : slot === 0
            ? { at: 'spawn', delayMs: Math.floor(v * 40) }
            : slot === 1
              ? { at: 'folder', delayMs: Math.floor(v * 5) }
              : { at: 'line', line: 1 + Math.floor(u * gatedLines), late: false, delayMs: Math.floor(v * 10) };
      const tag = `crash-${process.pid}-${index}`;
      const known = new Set(sessionFolders(root));
      const run = await runAndKill(plan, tag, known);
      if (run.killed) kills++;
      const orphansKilled = await killOrphans(tag);
      const planText = plan.at === 'line' ? `${plan.late ? 'late, ' : ''}line ${plan.line} +${plan.delayMs} ms` : `${plan.at} +${plan.delayMs} ms`;
      const it: Iteration = { index, plan: planText, killed: run.killed, runExit: run.code, orphansKilled, outcome: 'no-session', succeededBefore: [], logSucceededBefore: [], rerunAfterResume: [], neverDone: [] };
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
        `calibration: ${calibration.gatedLines} log lines before the gate, ${calibration.totalLines} in a run; ` +
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
    // A kill at a checkpoint before the gate always lands: the run cannot end while the gate is closed.
    assert.equal(bad((i) => !i.killed && !i.plan.startsWith('late')), '');
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

/**
 * Engine benchmark (`npm run bench:engine`; part of `npm run bench`). Ratios against baselines
 * measured in the same run; absolute times are printed for context only.
 *
 * 1. A 1,002-step DAG (a root, 50 parallel chains of 20 `true` steps, a join) at concurrency 2:
 *    `orchestrator run` (durable persistence on) vs the floor for any Node engine (a bare Node
 *    script spawning the same 1,002 `bash -c true` at concurrency 2, no bookkeeping) and vs GNU
 *    `make -j2` on the same DAG as a Makefile. Goal: ≤ 1.15× the floor. Two more floors split the
 *    ratio: the engine's own spawn call without bookkeeping, and that again in a process as big as
 *    the runner (see floorScript). CPU seconds of each run show the budget a 2-core machine leaves.
 * 2. Resume of a session with a 10,000-event log (goal ≤ 100 ms), against reading and parsing
 *    that log.
 * 3. `list` over 1,000 sessions (goal ≤ 150 ms), against reading their state files raw.
 * 4. Host RSS after listing 1,000 sessions (goal ≤ 80 MB), against an idle Node process.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resumeSession } from '../../server/src/engine/sessions';
import { readEvents } from '../../server/src/store/eventLog';
import { listSessions } from '../../server/src/store/sessionStore';
import { shellArgs } from '../../server/src/engine/steps/shell';
import { USE_PROCESS_GROUPS } from '../../server/src/engine/steps/processTree';
import { LspClient } from '../host/lspClient';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'server', 'out', 'cli.js');
const quick = process.argv.includes('--quick');
const CHAINS = 50;
const LENGTH = 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function tempRepo(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `orch-bench-${name}-`));
  fs.mkdirSync(path.join(dir, '.git'));
  return dir;
}

function dagWorkflow(): string {
  const lines = ['name: dag', 'concurrency: 2', 'steps:', '  - { id: root, run: "true" }'];
  for (let c = 0; c < CHAINS; c++) {
    for (let i = 0; i < LENGTH; i++) lines.push(`  - { id: c${c}_${i}, needs: ${i === 0 ? 'root' : `c${c}_${i - 1}`}, run: "true" }`);
  }
  lines.push(`  - { id: join, needs: [${Array.from({ length: CHAINS }, (_, c) => `c${c}_${LENGTH - 1}`).join(', ')}], run: "true" }`);
  return lines.join('\n') + '\n';
}

function makefile(): string {
  const lines = ['.PHONY: all root join', 'all: join', 'root:', '\t@bash -c true'];
  for (let c = 0; c < CHAINS; c++) {
    for (let i = 0; i < LENGTH; i++) lines.push(`c${c}_${i}: ${i === 0 ? 'root' : `c${c}_${i - 1}`}`, '\t@bash -c true', `.PHONY: c${c}_${i}`);
  }
  lines.push(`join: ${Array.from({ length: CHAINS }, (_, c) => `c${c}_${LENGTH - 1}`).join(' ')}`, '\t@bash -c true');
  return lines.join('\n') + '\n';
}

/**
 * The floors, each a bare Node script that spawns the DAG's 1,002 steps at concurrency 2 in file
 * order (one chain after another never waits: the DAG's shape does not limit concurrency 2), with
 * no bookkeeping at all:
 * - `bare`: the issue's floor, `bash -c true` with stdio ignored;
 * - `exact`: the spawn the engine must make (shell.ts): its bash flags, its environment (the
 *   parent's plus the five ORCHESTRATOR_* variables), the repo as cwd, a process group for
 *   timeouts, and both output pipes read to their end;
 * - `padded`: `exact` in a process holding as much anonymous memory as the engine's runner does
 *   (Linux's fork copies the page tables of every resident anonymous page, so a bigger process
 *   spawns more slowly).
 * The steps between them split the engine's ratio into what spawning needs and what bookkeeping adds.
 */
function floorScript(kind: 'bare' | 'exact', padMb = 0): string {
  const spawnCall =
    kind === 'bare'
      ? "spawn('bash', ['-c', 'true'], { stdio: 'ignore' })"
      : `spawn('bash', ${JSON.stringify(shellArgs('bash', 'true'))}, { cwd: process.cwd(), env: { ...process.env, ORCHESTRATOR_SESSION_ID: 'floor', ORCHESTRATOR_STEP_ID: 's' + left, ORCHESTRATOR_ATTEMPT: '1', ORCHESTRATOR_OUTPUT: '/tmp/floor-' + left + '-outputs', ORCHESTRATOR_FINDINGS: '/tmp/floor-' + left + '-findings.jsonl' }, stdio: ['ignore', 'pipe', 'pipe'], detached: ${String(USE_PROCESS_GROUPS)} })`;
  const wait =
    kind === 'bare'
      ? "c.on('exit', done);"
      : "let open = 3; const end = () => { if (--open === 0) done(); }; c.stdout.on('data', () => {}); c.stderr.on('data', () => {}); c.stdout.on('close', end); c.stderr.on('close', end); c.on('exit', end);";
  return `
const { spawn } = require('node:child_process');
${padMb > 0 ? `globalThis.pad = Buffer.alloc(${padMb} * 1024 * 1024, 1);` : ''}
let left = ${CHAINS * LENGTH + 2}, running = 0;
function done() { running--; if (left === 0 && running === 0) process.exit(0); next(); }
function next() {
  while (running < 2 && left > 0) {
    left--; running++;
    const c = ${spawnCall};
    ${wait}
  }
}
next();
`;
}

interface Timed {
  ms: number;
  /** CPU seconds of the process and all its children (user + system), where /proc tells. */
  cpu: number;
  /** Mean anonymous memory of the process while it ran (MB), when sampled. */
  anonMb?: number;
}

/** User + system CPU seconds of this process's waited-for children (/proc/self/stat cutime + cstime). */
function childrenCpu(): number {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

function anonMb(pid: number): number | undefined {
  try {
    const kb = /Anonymous:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

function timeChild(cmd: string, args: string[], cwd: string, sampleMemory = false): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const cpu0 = childrenCpu();
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const samples: number[] = [];
    // Sampling walks the child's page tables: only done in an untimed warm-up run.
    const sampler = sampleMemory
      ? setInterval(() => {
          const mb = anonMb(child.pid!);
          if (mb !== undefined) samples.push(mb);
        }, 100)
      : undefined;
    child.on('exit', (code) => {
      clearInterval(sampler);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const mean = samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : undefined;
      if (code === 0) resolve({ ms, cpu: childrenCpu() - cpu0, ...(mean !== undefined ? { anonMb: mean } : {}) });
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${String(code)}: ${err.slice(-500)}`));
    });
  });
}

type DagKey = 'engine' | 'bare' | 'exact' | 'padded' | 'make';

async function dagBench(): Promise<Record<string, number>> {
  const repo = tempRepo('dag');
  fs.writeFileSync(path.join(repo, 'dag.workflow.yaml'), dagWorkflow());
  fs.writeFileSync(path.join(repo, 'Makefile'), makefile());
  fs.writeFileSync(path.join(repo, 'bare.js'), floorScript('bare'));
  fs.writeFileSync(path.join(repo, 'exact.js'), floorScript('exact'));
  const hasMake = spawnSync('make', ['--version']).status === 0;
  const runs = quick ? 1 : 5;
  // Warm-up (not counted): the engine once with its memory sampled, to size the padded floor.
  const warm = await timeChild(process.execPath, [CLI, 'run', 'dag.workflow.yaml', '--quiet'], repo, true);
  const exactWarm = await timeChild(process.execPath, ['exact.js'], repo, true);
  const padMb = Math.max(0, Math.round((warm.anonMb ?? 0) - (exactWarm.anonMb ?? 0)));
  fs.writeFileSync(path.join(repo, 'padded.js'), floorScript('exact', padMb));
  const t: Record<DagKey, Timed[]> = { engine: [], bare: [], exact: [], padded: [], make: [] };
  // Interleave, so that machine noise hits all of them alike.
  for (let i = 0; i < runs; i++) {
    t.engine.push(await timeChild(process.execPath, [CLI, 'run', 'dag.workflow.yaml', '--quiet'], repo));
    t.bare.push(await timeChild(process.execPath, ['bare.js'], repo));
    t.exact.push(await timeChild(process.execPath, ['exact.js'], repo));
    t.padded.push(await timeChild(process.execPath, ['padded.js'], repo));
    t.make.push(hasMake ? await timeChild('make', ['-s', '-j2', '-B'], repo) : { ms: NaN, cpu: NaN });
  }
  const sessions = listSessions(repo).sessions;
  const bad = sessions.filter((s) => s.state.status !== 'succeeded');
  if (bad.length) throw new Error(`a DAG session did not succeed: ${bad[0].state.id} ${bad[0].state.status}`);
  if (sessions.length !== runs + 1) throw new Error(`expected ${runs + 1} DAG sessions, found ${sessions.length}`);
  fs.rmSync(repo, { recursive: true, force: true });
  const out: Record<string, number> = { engineAnonMb: warm.anonMb ?? NaN, exactAnonMb: exactWarm.anonMb ?? NaN, padMb };
  for (const k of Object.keys(t) as DagKey[]) {
    out[k] = median(t[k].map((x) => x.ms));
    out[`${k}Cpu`] = median(t[k].map((x) => x.cpu));
  }
  return out;
}

/** A finished session written directly (state.json + log.jsonl), as the engine writes them. */
function fakeSession(repo: string, id: string, steps: number, withSnapshot: boolean, failLast = false): void {
  const dir = path.join(repo, '.orchestrator', 'sessions', id);
  fs.mkdirSync(dir, { recursive: true });
  const wfSteps = Array.from({ length: steps }, (_, i) => ({ id: `s${i}`, run: 'true', needs: i ? [`s${i - 1}`] : [], kind: 'run' }));
  const compiled = { name: 'fake', definition: { name: 'fake' }, steps: wfSteps, hash: 'x' };
  const time = new Date().toISOString();
  const events: string[] = [];
  let seq = 0;
  const ev = (type: string, fields: Record<string, unknown> = {}) => events.push(JSON.stringify({ seq: ++seq, time, type, session: id, ...fields }));
  ev('session.started', { data: { workflow: { name: 'fake', file: 'fake.workflow.yaml', hash: 'x', compiled }, inputs: {}, instances: wfSteps.map((s) => ({ id: s.id, stepId: s.id })) } });
  for (let i = 0; i < steps; i++) {
    ev('step.started', { step: `s${i}`, attempt: 1 });
    ev('step.heartbeat', { step: `s${i}` });
    ev('step.finished', { step: `s${i}`, attempt: 1, data: { status: failLast && i === steps - 1 ? 'failed' : 'succeeded', outputs: { n: String(i) } } });
  }
  ev('session.finished', { data: { status: failLast ? 'failed' : 'succeeded' } });
  const log = events.join('\n') + '\n';
  fs.writeFileSync(path.join(dir, 'log.jsonl'), log);
  if (withSnapshot) {
    const stepsState: Record<string, unknown> = {};
    for (const s of wfSteps) stepsState[s.id] = { id: s.id, stepId: s.id, status: 'succeeded', attempt: 1, outputs: {}, findings: 0 };
    const state = { id, workflow: { name: 'fake', file: 'fake.workflow.yaml', hash: 'x', compiled }, inputs: {}, status: 'succeeded', startedAt: time, updatedAt: time, finishedAt: time, steps: stepsState, order: wfSteps.map((s) => s.id), findings: [], rawFindings: [], seq, controlApplied: 0, logOffset: Buffer.byteLength(log) };
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state));
  }
}

async function resumeBench(): Promise<Record<string, number>> {
  const repo = tempRepo('resume');
  const steps = 3333; // 1 + 3 × 3,333 + 1 ≈ 10,000 events
  const runs = quick ? 3 : 9;
  const ours: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const id = `20261121-000000-r${String(i).padStart(3, '0')}`;
    fakeSession(repo, id, steps, false, true); // no snapshot: resume rebuilds from the whole log
    const log = path.join(repo, '.orchestrator', 'sessions', id, 'log.jsonl');
    const b0 = performance.now();
    const parsed = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);
    const b = performance.now() - b0;
    if (parsed.length < 10_000) throw new Error(`the log has ${parsed.length} events`);
    const t0 = performance.now();
    const started = await resumeSession(id, { repoRoot: repo, env: {} });
    const t = performance.now() - t0;
    const final = await started.done;
    if (final.status !== 'succeeded') throw new Error(`resumed session ended ${final.status}`);
    if (i === 0) continue;
    ours.push(t);
    base.push(b);
  }
  const events = readEvents(path.join(repo, '.orchestrator', 'sessions', `20261121-000000-r001`, 'log.jsonl')).events.length;
  fs.rmSync(repo, { recursive: true, force: true });
  return { resume: median(ours), parse: median(base), events };
}

async function listBench(): Promise<Record<string, number>> {
  const repo = tempRepo('list');
  for (let i = 0; i < 1000; i++) fakeSession(repo, `20261121-${String(100000 + i)}-l${String(i).padStart(3, '0')}`, 8, true);
  const runs = quick ? 3 : 9;
  const ours: number[] = [];
  const base: number[] = [];
  const cli: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const b0 = performance.now();
    const dir = path.join(repo, '.orchestrator', 'sessions');
    for (const id of fs.readdirSync(dir)) JSON.parse(fs.readFileSync(path.join(dir, id, 'state.json'), 'utf8'));
    const b = performance.now() - b0;
    const t0 = performance.now();
    const n = listSessions(repo).sessions.length;
    const t = performance.now() - t0;
    if (n !== 1000) throw new Error(`listed ${n} sessions`);
    const c = (await timeChild(process.execPath, [CLI, 'list', '--json'], repo)).ms;
    const e = (await timeChild(process.execPath, ['-e', '0'], repo)).ms;
    if (i === 0) continue;
    ours.push(t);
    base.push(b);
    cli.push(c);
    bare.push(e);
  }
  const rss = await hostRss(repo);
  fs.rmSync(repo, { recursive: true, force: true });
  return { list: median(ours), raw: median(base), cli: median(cli), node: median(bare), ...rss };
}

function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/**
 * The host's RSS right after it listed the sessions (the peak: the garbage of loading them is not
 * collected yet), and settled: once V8's memory reducer has run while the host idles (RSS read every
 * 500 ms until it has fallen and then held for 2 s, at most 30 s), which is what a long-lived host keeps.
 */
async function hostRss(repo: string): Promise<{ hostRss: number; settledRss: number; idleRss: number; listed: number }> {
  const client = await LspClient.start({ initializationOptions: { repoRoot: repo, trusted: true } });
  try {
    const list = await client.connection.sendRequest<unknown[]>('orchestrator/sessions/list', {});
    const pid = client.child.pid!;
    await new Promise((r) => setTimeout(r, 300));
    const hostRss = rssOf(pid);
    // Until it has fallen and then held for 2 s (the reducer runs once the host idles), at most 30 s.
    let settledRss = hostRss;
    let fell = false;
    let steady = 0;
    for (let t = 0; t < 60 && !(fell && steady >= 4); t++) {
      await new Promise((r) => setTimeout(r, 500));
      const now = rssOf(pid);
      if (now < settledRss - 0.5) {
        fell = true;
        steady = 0;
      } else steady++;
      settledRss = Math.min(settledRss, now);
    }
    const idle = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const idleRss = rssOf(idle.pid!);
    idle.kill();
    return { hostRss, settledRss, idleRss, listed: list.length };
  } finally {
    await client.stop();
  }
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a / b) ? (a / b).toFixed(2) : 'n/a';
}

async function main(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error('run npm run build first');
  const results: Record<string, unknown> = {};
  console.log(`Engine benchmark${quick ? ' (quick)' : ''}: ${os.cpus().length} CPUs, node ${process.version}\n`);

  const dag = await dagBench();
  results.dag = dag;
  const cores = os.cpus().length;
  const ms = (k: string): string => (Number.isFinite(dag[k]) ? `${dag[k].toFixed(0)} ms` : 'n/a').padStart(8);
  const cpu = (k: string): string => (Number.isFinite(dag[`${k}Cpu`]) ? `${dag[`${k}Cpu`].toFixed(2)} CPU-s` : 'n/a').padStart(10);
  console.log(`1,002-step DAG at concurrency 2 (medians; CPU-s = user + system seconds of the process and its children):`);
  console.log(`  orchestrator run (durable):     ${ms('engine')} ${cpu('engine')}`);
  console.log(`  floor, bare spawner:            ${ms('bare')} ${cpu('bare')}   → engine / floor = ${ratio(dag.engine, dag.bare)}  (goal ≤ 1.15)`);
  console.log(`  floor, the engine's spawn:      ${ms('exact')} ${cpu('exact')}   → that / floor = ${ratio(dag.exact, dag.bare)}`);
  console.log(`    (its bash flags, env, process group, both output pipes read; no bookkeeping)`);
  console.log(`  the same, +${dag.padMb.toFixed(0)} MB like the runner: ${ms('padded')} ${cpu('padded')}   → that / floor = ${ratio(dag.padded, dag.bare)}`);
  console.log(`    (runner ${dag.engineAnonMb.toFixed(0)} MB of anonymous memory against ${dag.exactAnonMb.toFixed(0)} MB: fork copies its page tables)`);
  console.log(`  make -j2:                       ${ms('make')} ${cpu('make')}   → engine / make  = ${ratio(dag.engine, dag.make)}`);
  console.log(`  engine / the padded floor = ${ratio(dag.engine, dag.padded)}: what the bookkeeping adds (events, fsync, state, scheduling, start-up)`);
  const budget = cores * 1.15 * (dag.bare / 1000);
  console.log(
    `  CPU budget: within 1.15 × the floor, ${cores} cores give ${budget.toFixed(2)} CPU-s; the engine's spawn alone uses ${dag.exactCpu.toFixed(2)}` +
      `, leaving ${(budget - dag.exactCpu).toFixed(2)} for everything else (the engine used ${(dag.engineCpu - dag.exactCpu).toFixed(2)} more)\n`,
  );

  const res = await resumeBench();
  results.resume = res;
  console.log(`Resume of a session with a ${res.events}-event log and no snapshot (medians):`);
  console.log(`  resume (load, lock, replay, append): ${res.resume.toFixed(1)} ms (goal ≤ 100 ms)`);
  console.log(`  read + JSON.parse of the log:        ${res.parse.toFixed(1)} ms   → ratio ${ratio(res.resume, res.parse)}\n`);

  const list = await listBench();
  results.list = list;
  console.log(`list over 1,000 sessions (medians):`);
  console.log(`  listSessions in-process: ${list.list.toFixed(1)} ms (goal ≤ 150 ms)   raw read + parse of 1,000 state.json: ${list.raw.toFixed(1)} ms → ratio ${ratio(list.list, list.raw)}`);
  console.log(`  orchestrator list --json: ${list.cli.toFixed(0)} ms wall   (node -e 0: ${list.node.toFixed(0)} ms)`);
  console.log(`  host RSS after listing ${list.listed} sessions: ${list.hostRss.toFixed(1)} MB at once (the garbage of loading them not collected yet); settled: ${list.settledRss.toFixed(1)} MB (goal ≤ 80 MB)   idle node: ${list.idleRss.toFixed(1)} MB → ratio ${ratio(list.settledRss, list.idleRss)}`);

  fs.mkdirSync(path.join(ROOT, '.bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, '.bench', 'engine.json'), JSON.stringify(results, null, 2));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});

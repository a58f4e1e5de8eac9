/** `orchestrator run|resume|list|show|pause|cancel|approve|reject|stuck|findings`. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatDuration } from '../workflow/durations';
import { findingsToSarif } from '../engine/findings/sarif';
import { controlSession, findRepoRoot, InputError, loadWorkflowFile, resolveInputs, resumeSession, spawnRunner, startSession, type Started } from '../engine/sessions';
import { isAtRest, SESSION_STATUSES, type SessionState } from '../engine/types';
import { listSessionIds, loadSession, listSessions, newSessionId, SessionNotFoundError } from '../store/sessionStore';
import { stuckSteps } from '../engine/stuck';
import { agentText } from '../engine/steps/agentStep';
import { spendText } from '../engine/spend';
import { summarize } from '../store/sessionWatcher';
import { damageText } from '../store/logDamage';
import { baselineOf } from '../engine/findings/baseline';
import { withPausing } from '../engine/pausing';
import { statusText, stepsText } from '../protocol/summary';
import { maskWrites, painter, UsageError, type Out } from './output';
import { ProgressReporter } from './progress';
import { chooseDefinition } from './resumeChoice';

export interface CommonOptions {
  json?: boolean;
}

export function repoRoot(): string {
  return findRepoRoot(process.env.ORCHESTRATOR_REPO ?? process.cwd());
}

/** A session id as typed: `latest` (or `last`) is the newest session of the repository. */
export function resolveId(id: string, root = repoRoot()): string {
  if (id !== 'latest' && id !== 'last') return id;
  const newest = listSessionIds(root)[0];
  if (!newest) throw new UsageError('there are no sessions yet: start one with orchestrator run FILE');
  return newest;
}

/** `--input k=v` pairs. */
export function parseInputs(pairs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input takes name=value, not '${p}'`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

function exitFor(state: SessionState): number {
  return state.status === 'succeeded' || state.status === 'paused' ? 0 : 1;
}

export async function follow(started: Started & { warnings?: string[] }, out: Out, opts: CommonOptions & { quiet?: boolean }): Promise<number> {
  if (!started.masker.empty) for (const stream of [out.stdout, out.stderr]) maskWrites(stream, (t) => started.masker.mask(t));
  for (const w of started.warnings ?? []) out.stderr.write(`orchestrator: warning: ${w}\n`);
  const reporter = opts.json || opts.quiet ? undefined : new ProgressReporter(out);
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      out.stderr.write(`\norchestrator: cancelling session ${started.id} (Ctrl-C again to stop at once; the session can be resumed)\n`);
      void controlSession(repoRoot(), started.id, { type: 'cancel', by: 'Ctrl-C' }).catch(() => undefined);
    } else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  try {
    const state = await started.done;
    reporter?.stop();
    if (opts.json) out.stdout.write(JSON.stringify(summary(state), null, 2) + '\n');
    else if (state.findings.length && !opts.quiet) out.stdout.write(`${state.findings.length} finding(s): orchestrator findings ${state.id}\n`);
    return exitFor(state);
  } finally {
    process.off('SIGINT', onSigint);
    reporter?.stop();
  }
}

export function attachReporter(out: Out, json?: boolean, quiet?: boolean): ProgressReporter | undefined {
  return json || quiet ? undefined : new ProgressReporter(out);
}

/** `--concurrency` and `--stuck-after`: the flag layer of the configuration (engine/settings.ts). */
export interface DefaultsFlags {
  concurrency?: string;
  stuckAfter?: string;
}

function configFlags(opts: DefaultsFlags): { flags?: { concurrency?: string; stuck_after?: string } } {
  if (opts.concurrency === undefined && opts.stuckAfter === undefined) return {};
  return { flags: { ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}), ...(opts.stuckAfter !== undefined ? { stuck_after: opts.stuckAfter } : {}) } };
}

/** The same flags, for a detached runner's command line. */
function configArgs(opts: DefaultsFlags): string[] {
  return [...(opts.concurrency !== undefined ? ['--concurrency', opts.concurrency] : []), ...(opts.stuckAfter !== undefined ? ['--stuck-after', opts.stuckAfter] : [])];
}

export async function runCommand(file: string, opts: CommonOptions & DefaultsFlags & { input?: string[]; detach?: boolean; sessionId?: string; quiet?: boolean }, out: Out): Promise<number> {
  const root = repoRoot();
  const inputs = parseInputs(opts.input);
  if (opts.detach) {
    // Check everything here, so that errors are the caller's, then hand over to a detached runner.
    resolveInputs(loadWorkflowFile(file), inputs);
    const id = newSessionId();
    return detach(['run', path.resolve(file), ...(opts.input ?? []).flatMap((i) => ['--input', i]), ...configArgs(opts), '--session-id', id, '--quiet'], root, id, out, opts);
  }
  const reporter = attachReporter(out, opts.json, opts.quiet);
  const started = await startSession(file, inputs, { repoRoot: root, ...configFlags(opts), ...(opts.sessionId ? { id: opts.sessionId } : {}), ...(reporter ? { onEvent: (e, s) => reporter.event(e, s) } : {}) });
  return follow(started, out, opts);
}

export async function resumeCommand(given: string, opts: CommonOptions & DefaultsFlags & { from?: string; reload?: boolean; stored?: boolean; detach?: boolean; quiet?: boolean }, out: Out): Promise<number> {
  const root = repoRoot();
  const id = resolveId(given, root);
  // The file changed since the session started: the user chooses (engine/definition.ts compares).
  const choice = await chooseDefinition(root, id, opts, out);
  if (choice.kind === 'refused') return choice.code;
  if (choice.kind === 'fresh') return runCommand(path.resolve(root, choice.file), { ...opts, input: choice.inputs }, out);
  const flags = [...(opts.from ? ['--from', opts.from] : []), ...(choice.reload ? ['--reload'] : []), ...(choice.stored ? ['--stored'] : [])];
  if (opts.detach) {
    const st = loadSession(root, id);
    if (st.owner) throw new InputError(`session ${id} is running: it is owned by process ${st.owner.pid} on ${st.owner.host}`);
    return detach(['resume', id, ...flags, ...configArgs(opts), '--quiet'], root, id, out, opts);
  }
  const reporter = attachReporter(out, opts.json, opts.quiet);
  const started = await resumeSession(id, { repoRoot: root, ...configFlags(opts), ...(opts.from ? { from: opts.from } : {}), ...(choice.reload ? { reload: true } : {}), ...(choice.stored ? { stored: true } : {}), ...(reporter ? { onEvent: (e, s) => reporter.event(e, s) } : {}) });
  return follow(started, out, opts);
}

/** Starts a detached runner (see engine/sessions.ts spawnRunner) and prints the session id. */
export async function detach(args: string[], root: string, id: string, out: Out, opts: CommonOptions): Promise<number> {
  const cli = process.argv[1] && fs.existsSync(process.argv[1]) ? process.argv[1] : path.join(__dirname, 'cli.js');
  const pid = await spawnRunner(cli, args, root, id);
  if (opts.json) out.stdout.write(JSON.stringify({ id, pid }) + '\n');
  else out.stdout.write(`${id}\n`);
  return 0;
}

/** A session's summary as `list --json` and `run --json` print it (the host's SessionSummary). */
export function summary(s: SessionState): Record<string, unknown> {
  return { ...summarize(s) };
}

function since(iso: string | undefined, end?: string): string {
  if (!iso) return '';
  return formatDuration((end ? Date.parse(end) : Date.now()) - Date.parse(iso));
}

export function listCommand(opts: CommonOptions & { status?: string }, out: Out): number {
  if (opts.status !== undefined && !(SESSION_STATUSES as readonly string[]).includes(opts.status)) {
    throw new UsageError(`--status takes one of ${SESSION_STATUSES.join(', ')}, not '${opts.status}'`);
  }
  const root = repoRoot();
  const { sessions, warnings } = listSessions(root);
  for (const w of warnings) out.stderr.write(`orchestrator: warning: ${w}\n`);
  const rows = sessions.map((s) => s.state).filter((s) => !opts.status || s.status === opts.status);
  if (opts.json) {
    out.stdout.write(JSON.stringify(rows.map((s) => withPausing(root, summarize(s))), null, 2) + '\n');
    return 0;
  }
  if (!rows.length) {
    out.stdout.write(opts.status ? `no ${opts.status} sessions\n` : 'no sessions yet: start one with orchestrator run FILE\n');
    return 0;
  }
  const table = [['ID', 'STATUS', 'WORKFLOW', 'STEPS', 'DURATION', 'FINDINGS']];
  for (const s of rows) {
    const sum = withPausing(root, summarize(s));
    table.push([s.id, statusText(sum), `${s.workflow.name}${s.replay ? ` (replay of ${s.replay.of})` : ''}`, stepsText(sum.counts, sum.total, { atRest: isAtRest(s.status) }), since(s.startedAt, isAtRest(s.status) ? (s.finishedAt ?? s.updatedAt) : undefined), String(s.findings.length)]);
  }
  out.stdout.write(formatTable(table));
  return 0;
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

function load(id: string): ReturnType<typeof loadSession> {
  try {
    return loadSession(repoRoot(), resolveId(id));
  } catch (e) {
    if (e instanceof SessionNotFoundError) throw new UsageError(e.message);
    throw e;
  }
}

export function showCommand(id: string, opts: CommonOptions, out: Out): number {
  const l = load(id);
  for (const w of l.warnings) out.stderr.write(`orchestrator: warning: ${w}\n`);
  const s = l.state;
  if (opts.json) {
    const { rawFindings: _r, workflow, ...rest } = s;
    out.stdout.write(JSON.stringify({ ...rest, workflow: { name: workflow.name, file: workflow.file, hash: workflow.hash }, ...(l.owner ? { owner: l.owner } : {}) }, null, 2) + '\n');
    return 0;
  }
  const paint = painter(out.stdout);
  const lines = [
    `${paint('bold', s.id)}  ${s.workflow.name} (${s.workflow.file})`,
    `status: ${s.status}${s.reason ? ` — ${s.reason}` : ''}`,
    ...(s.damaged?.length ? [`log: damaged — ${damageText(s.damaged)}`] : []),
    ...(s.replay ? [`replay of: ${s.replay.of} (${s.replay.from}): agent answers come from its recording${s.replay.live ? ', calls it cannot answer go to the provider (--live)' : ''}`] : []),
    `started: ${s.startedAt}${s.finishedAt ? `, finished ${s.finishedAt} (${since(s.startedAt, s.finishedAt)})` : ''}`,
    ...(l.owner ? [`runner: process ${l.owner.pid} on ${l.owner.host}`] : []),
    ...(Object.keys(s.inputs).length ? [`inputs: ${Object.entries(s.inputs).map(([k, v]) => `${k}=${String(v)}`).join(', ')}`] : []),
    ...(s.spent ? [`spent: ${spendText(s.spent.total)}${Object.keys(s.spent.agents).length > 1 ? ` (${Object.entries(s.spent.agents).map(([a, x]) => `${a}: ${spendText(x)}`).join('; ')})` : ''}`] : []),
    '',
  ];
  const table = [['STEP', 'STATUS', 'ATTEMPT', 'DURATION', 'NOTE']];
  for (const sid of s.order) {
    const st = s.steps[sid];
    const agent = st.agent ? `agent: ${agentText(st.agent)}${st.spent && st.spent.calls > 1 ? `; spent over ${st.spent.calls} attempts: ${spendText(st.spent)}` : ''}` : '';
    const note = [agent, st.stuck ? `stuck (last heard ${since(st.lastHeardAt)} ago)` : '', st.approval && !st.approval.answer ? `approval: ${st.approval.question}` : '', st.reason ?? '', Object.keys(st.outputs).length ? `outputs: ${Object.keys(st.outputs).join(', ')}` : ''].filter(Boolean).join('; ');
    table.push([sid, st.status, String(st.attempt || ''), st.startedAt ? since(st.startedAt, st.finishedAt) : '', note]);
  }
  out.stdout.write(lines.join('\n') + '\n' + formatTable(table));
  if (s.findings.length || isAtRest(s.status)) {
    const b = baselineOf(repoRoot(), s);
    const cmp = b.previous ? ` (${b.new.length} new, ${b.fixed.length} fixed since ${b.previous})` : '';
    if (s.findings.length || b.fixed.length) out.stdout.write(`\n${s.findings.length} finding(s)${cmp}: orchestrator findings ${s.id}${b.previous ? ' --compare' : ''}\n`);
  }
  return 0;
}

export async function controlCommand(given: string, command: Parameters<typeof controlSession>[2], opts: CommonOptions, out: Out): Promise<number> {
  const root = repoRoot();
  const id = resolveId(given, root);
  const res = await controlSession(root, id, command);
  let state = res.state;
  if (res.applied === 'sent' && (command.type === 'cancel' || command.type === 'pause')) {
    // Wait (bounded) for the runner to reach rest, so the command's result can be reported.
    const t0 = Date.now();
    while (Date.now() - t0 < 60_000) {
      state = loadSession(root, id).state;
      if (isAtRest(state.status)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (opts.json) out.stdout.write(JSON.stringify({ ...summary(state), command: command.type, applied: res.applied }, null, 2) + '\n');
  else {
    const what = command.type === 'approve' || command.type === 'reject' || command.type === 'retry' ? `${command.type} ${command.step}` : command.type;
    out.stdout.write(`${id}: ${what} ${res.applied === 'sent' ? 'sent to the runner' : 'done'}; the session is ${state.status}\n`);
  }
  return 0;
}

export function stuckCommand(opts: CommonOptions, out: Out): number {
  const items = stuckSteps(repoRoot());
  if (opts.json) {
    out.stdout.write(JSON.stringify(items, null, 2) + '\n');
    return 0;
  }
  if (!items.length) {
    out.stdout.write('nothing is stuck\n');
    return 0;
  }
  const table = [['SESSION', 'STEP', 'KIND', 'LAST HEARD']];
  for (const i of items) table.push([i.session, i.step, i.kind, `${formatDuration(i.silentMs)} ago`]);
  out.stdout.write(formatTable(table));
  return 0;
}

export function findingsCommand(id: string, opts: CommonOptions & { format?: string; compare?: boolean }, out: Out): number {
  const format = opts.json ? 'json' : (opts.format ?? 'table');
  if (!['table', 'json', 'sarif'].includes(format)) throw new UsageError(`--format takes table, json or sarif, not '${format}'`);
  const s = load(id).state;
  id = s.id;
  if (opts.compare) return findingsCompared(s, format, out);
  if (format === 'json') out.stdout.write(JSON.stringify(s.findings, null, 2) + '\n');
  else if (format === 'sarif') out.stdout.write(JSON.stringify(findingsToSarif(s.findings, { toolName: 'Synapse Orchestrator', version: '0.1.0', root: repoRoot() }), null, 2) + '\n');
  else if (!s.findings.length) out.stdout.write(`session ${id} has no findings\n`);
  else {
    const table = [['SEVERITY', 'LOCATION', 'RULE', 'FROM', 'MESSAGE']];
    for (const f of s.findings) {
      const loc = f.file ? `${f.file}${f.line ? `:${f.line}` : ''}` : '';
      const from = [...new Set(f.sources.map((x) => x.step))].join(',') + (f.conflict ? ' (disputed)' : '');
      table.push([f.severity, loc, f.rule ?? '', from, f.message.split('\n')[0]]);
    }
    out.stdout.write(formatTable(table));
  }
  return 0;
}

/** `findings ID --compare`: new, unchanged and fixed against the previous session of the workflow. */
function findingsCompared(s: SessionState, format: string, out: Out): number {
  const b = baselineOf(repoRoot(), s);
  if (format === 'json') {
    out.stdout.write(JSON.stringify({ session: s.id, ...(b.previous ? { previous: b.previous } : {}), new: b.new, unchanged: b.unchanged, fixed: b.fixed }, null, 2) + '\n');
    return 0;
  }
  if (format === 'sarif') {
    const log = findingsToSarif([...b.new, ...b.unchanged, ...b.fixed], { toolName: 'Synapse Orchestrator', version: '0.1.0', root: repoRoot() });
    const state = new Map<string, 'new' | 'unchanged' | 'absent'>([...b.new.map((f) => [f.id, 'new'] as const), ...b.unchanged.map((f) => [f.id, 'unchanged'] as const), ...b.fixed.map((f) => [f.id, 'absent'] as const)]);
    for (const r of log.runs[0]?.results ?? []) {
      const fid = r.partialFingerprints?.['orchestratorFindingId/v1'];
      if (fid && b.previous) r.baselineState = state.get(fid) ?? 'new';
    }
    out.stdout.write(JSON.stringify(log, null, 2) + '\n');
    return 0;
  }
  out.stdout.write(b.previous ? `compared with session ${b.previous}: ${b.new.length} new, ${b.unchanged.length} unchanged, ${b.fixed.length} fixed\n` : `no earlier session of ${s.workflow.file}: every finding is new\n`);
  const table = [['', 'SEVERITY', 'LOCATION', 'RULE', 'MESSAGE']];
  const row = (mark: string, f: SessionState['findings'][number]) => [mark, f.severity, f.file ? `${f.file}${f.line ? `:${f.line}` : ''}` : '', f.rule ?? '', f.message.split('\n')[0]];
  for (const f of b.new) table.push(row('new', f));
  for (const f of b.unchanged) table.push(row('', f));
  for (const f of b.fixed) table.push(row('fixed', f));
  if (table.length > 1) out.stdout.write(formatTable(table));
  return 0;
}

export { SessionNotFoundError };


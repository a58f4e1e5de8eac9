/**
 * `orchestrator doctor` (docs/doctor.md): every check, in the order the report shows them, and
 * the fixes it can apply. Engine side: the CLI and the host call these two functions.
 *
 * A fix is named by its action id, `<kind>` or `<kind>:<session id>`. Applying one looks again
 * (never trusts the report it came from): a problem gone meanwhile is "nothing to do", a session
 * with a live runner is refused.
 */
import { configChecks } from './configChecks';
import { nodeChecks } from './nodeChecks';
import { processChecks, STOP_PROCESSES_ACTION, stopProcessesFix } from './processChecks';
import { providerChecks } from './providerChecks';
import { CHMOD_SECRETS_ACTION, chmodSecretsFix, secretsChecks, WRITE_GITIGNORE_ACTION, writeGitignoreFix } from './secretsChecks';
import { CLEAR_LOCK_ACTION, clearLockFix, RESUME_ACTION, resumeFix, sessionChecks } from './sessionChecks';
import { scanSessions } from './sessionScan';
import { RESTRICT_STATE_ACTION, restrictStateFolder, stateFolderChecks } from './stateFolderChecks';
import { validateWorkflows, workflowChecks } from './workflowChecks';
import { REMOVE_WORKTREES_ACTION, removeWorktreesFix, worktreeChecks } from './worktreeChecks';
import { SESSION_ID } from '../store/sessionFolders';
import { FixError, type CheckResult, type DoctorOptions, type DoctorReport, type FixOutcome } from './types';

export * from './types';

export function summarize(checks: CheckResult[]): DoctorReport {
  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status]++;
  return { checks, summary, ok: summary.fail === 0 };
}

/** Runs every check. Never throws for a check's sake: a check that crashes is a failed check naming the bug. */
export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  const guard = async (id: string, title: string, f: () => CheckResult[] | Promise<CheckResult[]>): Promise<void> => {
    try {
      checks.push(...(await f()));
    } catch (e) {
      checks.push({ id, title, status: 'fail', detail: `the check itself failed (please report it): ${e instanceof Error ? e.message : String(e)}` });
    }
  };
  // Secrets first: nothing before them may write .orchestrator/.gitignore.
  await guard('node', 'Node.js version', () => nodeChecks());
  await guard('state-folder', 'State folder', () => stateFolderChecks(o));
  await guard('secrets', 'Secrets', () => secretsChecks(o));
  await guard('config', 'Config files', () => configChecks(o));
  const workflows = validateWorkflows(o.repoRoot);
  await guard('workflows', 'Workflows', () => workflowChecks(workflows));
  await guard('providers', 'Agent providers', () => providerChecks(o, workflows));
  const scan = scanSessions(o.repoRoot);
  await guard('sessions', 'Sessions', () => sessionChecks(scan));
  await guard('step-processes', 'Step processes left running', () => processChecks(scan));
  await guard('worktrees', 'Leftover worktrees and branches', () => worktreeChecks(o, scan));
  return summarize(checks);
}

type Fixer = (o: DoctorOptions, arg: string | undefined) => string | Promise<string>;

const FIXERS: Record<string, { session: boolean; run: Fixer }> = {
  [RESUME_ACTION]: { session: true, run: (o, id) => resumeFix(o, id!) },
  [CLEAR_LOCK_ACTION]: { session: true, run: (o, id) => clearLockFix(o, id!) },
  [STOP_PROCESSES_ACTION]: { session: true, run: (o, id) => stopProcessesFix(o, id!) },
  [REMOVE_WORKTREES_ACTION]: { session: true, run: (o, id) => removeWorktreesFix(o, id!) },
  [RESTRICT_STATE_ACTION]: { session: false, run: (o) => restrictStateFolder(o) },
  [CHMOD_SECRETS_ACTION]: { session: false, run: (o) => chmodSecretsFix(o) },
  [WRITE_GITIGNORE_ACTION]: { session: false, run: (o) => writeGitignoreFix(o) },
};

/** Fixes that start work rather than repair: `--fix all` leaves them out (they are applied when named). */
export const NOT_IN_ALL = new Set([RESUME_ACTION]);

/** Why an action id is not one doctor knows (undefined when it is). */
export function badAction(action: string): string | undefined {
  const colon = action.indexOf(':');
  const kind = colon < 0 ? action : action.slice(0, colon);
  const arg = colon < 0 ? undefined : action.slice(colon + 1);
  const f = Object.hasOwn(FIXERS, kind) ? FIXERS[kind] : undefined;
  if (!f) return `'${action}' is not a fix doctor knows (fixes: ${Object.keys(FIXERS).map((k) => (FIXERS[k].session ? `${k}:SESSION` : k)).join(', ')})`;
  if (f.session && (arg === undefined || !SESSION_ID.test(arg))) return `'${action}' needs a session id: ${kind}:SESSION (ids look like 20261121-104512-k3f9)`;
  if (!f.session && arg !== undefined) return `'${action}': ${kind} takes no session id`;
  return undefined;
}

/** Applies one fix. Never throws: the outcome says what was done, or why not. */
export async function applyFix(o: DoctorOptions, action: string): Promise<FixOutcome> {
  const bad = badAction(action);
  if (bad) return { action, ok: false, message: bad };
  const colon = action.indexOf(':');
  const kind = colon < 0 ? action : action.slice(0, colon);
  try {
    const message = await FIXERS[kind].run(o, colon < 0 ? undefined : action.slice(colon + 1));
    return { action, ok: true, message };
  } catch (e) {
    if (e instanceof FixError) return { action, ok: false, message: e.message };
    const msg = e instanceof Error ? e.message : String(e);
    return { action, ok: false, message: `${action} failed: ${msg}` };
  }
}

/** The fixes a report offers, for `--fix all`: every one but those that start work. */
export function allFixes(report: DoctorReport): string[] {
  const out: string[] = [];
  for (const c of report.checks) {
    const a = c.fix?.action;
    if (!a || out.includes(a)) continue;
    const kind = a.includes(':') ? a.slice(0, a.indexOf(':')) : a;
    if (!NOT_IN_ALL.has(kind)) out.push(a);
  }
  return out;
}

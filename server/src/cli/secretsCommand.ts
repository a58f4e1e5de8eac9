/**
 * `orchestrator secrets list|set|test|doctor`: the secrets a repository's workflows read and where
 * each comes from (setup/secretReport.ts), writing one (setup/secretStore.ts), and the doctor's
 * secrets checks (setup/secretChecks.ts). No value is ever printed: `set` reads it from a hidden
 * prompt or stdin and writes it only to the secret's file.
 *
 * Exit codes: 0 done (doctor: nothing fails); 1 `test` of a secret that does not resolve, doctor
 * with a failing check, a secret that was not written; 2 bad usage (a name that cannot be a secret,
 * an empty value).
 */
import type { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { secretChecks, type CheckResult } from '../setup/secretChecks';
import { listSecrets, testSecret, type SecretEntry, type SourceDto } from '../setup/secretReport';
import { badSecretName, setSecret, SecretWriteError } from '../setup/secretStore';
import { PromptCancelled, readSecretValue } from './hiddenPrompt';
import { painter, UsageError, type Out } from './output';
import { repoRoot } from './sessionCommands';

/** A place as the user reads it: repository files relative to it, home files with ~. */
function shortAt(s: SourceDto | string, root: string): string {
  const at = typeof s === 'string' ? s : s.at;
  const home = os.homedir();
  // The nearer of the two (a repository is often inside the home folder).
  const inRoot = at.startsWith(root + path.sep);
  const inHome = at.startsWith(home + path.sep);
  if (inRoot && (!inHome || root.length >= home.length)) return path.relative(root, at);
  if (inHome) return `~${at.slice(home.length)}`;
  return at;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

function checkName(name: string): void {
  const bad = badSecretName(name);
  if (bad) throw new UsageError(bad);
}

export async function secretsListCommand(opts: { json?: boolean }, out: Out): Promise<number> {
  const root = repoRoot();
  const listing = await listSecrets({ repoRoot: root });
  if (opts.json) {
    out.stdout.write(JSON.stringify(listing, null, 2) + '\n');
    return 0;
  }
  const paint = painter(out.stdout);
  if (listing.secrets.length === 0) {
    out.stdout.write(`No secrets, and no workflow reads one (${listing.workflows.length} workflow${listing.workflows.length === 1 ? '' : 's'}). orchestrator secrets set NAME adds one.\n`);
  } else {
    const from = (e: SecretEntry): string => (e.from ? shortAt(e.from, root) + (e.shadowed.length ? paint('dim', ` (wins over ${e.shadowed.map((s) => shortAt(s, root)).join(', ')})`) : '') : paint('red', 'not set'));
    const used = (e: SecretEntry): string => (e.usedBy.length ? e.usedBy.map((u) => `${u.file}:${u.line}`).join(', ') : paint('dim', 'no workflow'));
    out.stdout.write(table([['NAME', 'FROM', 'USED BY'], ...listing.secrets.map((e) => [e.name, from(e), used(e)])]));
  }
  for (const d of listing.dynamic) out.stderr.write(`orchestrator: warning: ${d.file}:${d.line} reads secrets[...] with a computed name: which secret it needs cannot be told\n`);
  return 0;
}

export async function secretsSetCommand(name: string, opts: { global?: boolean }, out: Out, input: NodeJS.ReadStream = process.stdin): Promise<number> {
  checkName(name);
  const root = repoRoot();
  const home = os.homedir();
  let value: string;
  try {
    value = await readSecretValue(name, input, out.stderr);
  } catch (e) {
    if (e instanceof PromptCancelled) throw new UsageError(e.message, 130);
    throw new UsageError((e as Error).message);
  }
  if (value === '') throw new UsageError(`the value of ${name} is empty (${input.isTTY ? 'nothing was typed' : 'stdin gave nothing'}): nothing was written`);
  let r;
  try {
    r = await setSecret(name, value, opts.global ? { scope: 'home', homeDir: home } : { scope: 'repo', repoRoot: root }, { env: process.env, repoRoot: root, homeDir: home });
  } catch (e) {
    if (e instanceof SecretWriteError) throw new UsageError(e.message, 1);
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${name} was not written: ${code === 'EACCES' || code === 'EPERM' ? 'permission denied: check the owner and permissions of the secrets folder' : (e as Error).message}`, 1);
  }
  out.stdout.write(`${r.replaced ? 'Replaced' : 'Saved'} secret ${name} in ${shortAt(r.file, root)} (mode 0600${opts.global ? '' : ', ignored by git'}).\n`);
  if (r.looseDir !== undefined) out.stderr.write(`orchestrator: warning: other users can list ${shortAt(path.dirname(r.file), root)} (mode ${r.looseDir.toString(8).padStart(4, '0')}): chmod 700 ${path.dirname(r.file)}\n`);
  if (r.shadowedBy) out.stderr.write(`orchestrator: warning: ${shortAt(r.shadowedBy.at, root)} wins over it: sessions get that value, not this one\n`);
  return 0;
}

export function secretsTestCommand(name: string, opts: { json?: boolean }, out: Out): number {
  checkName(name);
  const root = repoRoot();
  const t = testSecret(name, { repoRoot: root });
  if (opts.json) {
    out.stdout.write(JSON.stringify(t, null, 2) + '\n');
    return t.resolved ? 0 : 1;
  }
  if (t.error) {
    out.stderr.write(`orchestrator: ${name} cannot be read: ${t.error}; check the file's owner and permissions (chmod 600)\n`);
    return 1;
  }
  if (!t.from) {
    out.stderr.write(`orchestrator: ${name} is not set (looked for ${t.lookedIn.map((l) => shortAt(l, root)).join(', ')}): orchestrator secrets set ${name} sets it\n`);
    return 1;
  }
  out.stdout.write(`${name} resolves from ${shortAt(t.from, root)}${t.shadowed.length ? ` (it wins over ${t.shadowed.map((s) => shortAt(s, root)).join(', ')})` : ''}.\n`);
  if (t.empty) out.stderr.write(`orchestrator: warning: ${name} is empty: steps get an empty string; orchestrator secrets set ${name} gives it a value\n`);
  return 0;
}

export function formatChecks(checks: readonly CheckResult[], paint: ReturnType<typeof painter>): string {
  const color = { pass: 'green', warn: 'yellow', fail: 'red' } as const;
  return checks.map((c) => `${paint(color[c.status], c.status)}  ${c.title}: ${c.detail}\n${c.fix ? `      fix: ${c.fix}\n` : ''}`).join('');
}

export async function secretsDoctorCommand(opts: { json?: boolean }, out: Out): Promise<number> {
  const checks = await secretChecks({ repoRoot: repoRoot() });
  const ok = !checks.some((c) => c.status === 'fail');
  if (opts.json) out.stdout.write(JSON.stringify({ ok, checks }, null, 2) + '\n');
  else out.stdout.write(formatChecks(checks, painter(out.stdout)));
  return ok ? 0 : 1;
}

export function registerSecretsCommand(program: Command, setCode: (code: number) => void, out: Out): void {
  const secrets = program.command('secrets').description('secrets for workflows (secrets.NAME): where each comes from, set one, test one, check them all; never shows a value');
  secrets
    .command('list')
    .description('every secret name: where it resolves from (env, .orchestrator/secrets/, ~/.orchestrator/secrets/) and which workflows read it')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      setCode(await secretsListCommand(opts, out));
    });
  secrets
    .command('set')
    .description('write a secret: the value from a hidden prompt, or from stdin when it is not a terminal; file mode 0600')
    .argument('<name>', 'the secret name, as in secrets.NAME')
    .option('--global', 'in ~/.orchestrator/secrets/ (every repository) instead of this repository\'s .orchestrator/secrets/')
    .action(async (name: string, opts: { global?: boolean }) => {
      setCode(await secretsSetCommand(name, opts, out));
    });
  secrets
    .command('test')
    .description('resolve a secret as a session would and say where it comes from (never its value); exit 1 when it does not resolve')
    .argument('<name>', 'the secret name')
    .option('--json', 'print JSON')
    .action((name: string, opts: { json?: boolean }) => {
      setCode(secretsTestCommand(name, opts, out));
    });
  secrets
    .command('doctor')
    .description("the doctor's secrets checks: every secrets.X the workflows use resolves, files private, git ignores them; exit 1 when one fails")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      setCode(await secretsDoctorCommand(opts, out));
    });
}

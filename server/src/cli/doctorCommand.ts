/**
 * `orchestrator doctor [--json] [--fix ID|all]...` (docs/doctor.md): every check as one line
 * (✓ pass, ! warn, ✗ fail: title, detail, and the fix), or JSON; `--fix` applies fixes first
 * (`all`: every one offered, except resuming sessions, which starts work), then checks again.
 * Exit 0 when nothing fails (and every fix asked for worked), 1 otherwise, 2 for a bad fix id.
 */
import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allFixes, applyFix, badAction, NOT_IN_ALL, runDoctor, type CheckResult, type DoctorOptions, type FixOutcome } from '../doctor/doctor';
import { painter, UsageError, type Out } from './output';
import { repoRoot } from './sessionCommands';

const MARK = { pass: '✓', warn: '!', fail: '✗' } as const;
const COLOR = { pass: 'green', warn: 'yellow', fail: 'red' } as const;

function line(c: CheckResult, paint: ReturnType<typeof painter>): string {
  let s = `${paint(COLOR[c.status], MARK[c.status])} ${paint('bold', c.title)}: ${c.detail}`;
  if (c.fix && c.status !== 'pass') s += ` ${paint('dim', '→')} ${c.fix.description}${c.fix.action ? paint('cyan', ` (orchestrator doctor --fix ${c.fix.action})`) : ''}`;
  return s;
}

export async function doctorCommand(opts: { json?: boolean; fix?: string[] }, out: Out): Promise<number> {
  const asked = opts.fix ?? [];
  for (const a of asked) {
    const bad = a === 'all' ? undefined : badAction(a);
    if (bad) throw new UsageError(bad);
  }
  const o: DoctorOptions = {
    repoRoot: repoRoot(),
    homeDir: os.homedir(),
    env: process.env,
    probeTools: true,
    cli: process.argv[1] && fs.existsSync(process.argv[1]) ? process.argv[1] : path.join(__dirname, 'cli.js'),
  };
  const paint = painter(out.stdout);
  const fixes: FixOutcome[] = [];
  const skipped: string[] = [];
  if (asked.length) {
    let todo = asked.filter((a) => a !== 'all');
    if (asked.includes('all')) {
      const first = await runDoctor(o);
      todo = [...new Set([...allFixes(first), ...todo])];
      for (const c of first.checks) {
        const a = c.fix?.action;
        if (a && NOT_IN_ALL.has(a.split(':')[0]) && !todo.includes(a)) skipped.push(a);
      }
    }
    for (const a of todo) fixes.push(await applyFix(o, a));
  }
  const report = await runDoctor(o);
  const ok = report.ok && fixes.every((f) => f.ok);
  if (opts.json) {
    out.stdout.write(JSON.stringify({ ...report, ok, ...(asked.length ? { fixes } : {}) }, null, 2) + '\n');
    return ok ? 0 : 1;
  }
  let text = '';
  if (asked.length && !fixes.length) text += 'nothing to fix\n';
  for (const f of fixes) text += `${f.ok ? paint('green', 'fixed') : paint('red', 'not fixed')} ${f.action}: ${f.message}\n`;
  for (const a of skipped) text += `${paint('dim', 'not applied by --fix all')} ${a}: it starts work; apply it by name (orchestrator doctor --fix ${a})\n`;
  if (text) text += '\n';
  for (const c of report.checks) text += line(c, paint) + '\n';
  const s = report.summary;
  const total = s.pass + s.warn + s.fail;
  const summary = `${total} check${total === 1 ? '' : 's'}: ${s.pass} passed, ${s.warn} warning${s.warn === 1 ? '' : 's'}, ${s.fail} failed`;
  text += `\n${s.fail ? paint('red', summary) : s.warn ? paint('yellow', summary) : paint('green', summary)}\n`;
  out.stdout.write(text);
  return ok ? 0 : 1;
}

export function registerDoctorCommand(program: Command, setCode: (code: number) => void, out: Out): void {
  const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
  program
    .command('doctor')
    .description('check the setup and the state folder (Node, sessions, runners, leftovers, providers, workflows, config, secrets); exit 1 when a check fails')
    .option('--json', 'print the checks as JSON')
    .option('--fix <id>', "apply a fix by its id (repeatable), or 'all' (every fix offered but resuming sessions)", collect)
    .action(async (opts: { json?: boolean; fix?: string[] }) => {
      setCode(await doctorCommand(opts, out));
    });
}

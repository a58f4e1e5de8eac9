/**
 * `orchestrator init [--portable]` and the editor's *Create a Workflow* (through the host): sets up
 * `.orchestrator/` in a repository. docs/setup.md says what and why.
 *
 * - Creates what is missing: `.gitignore` for the mode (first, so nothing written after it can be
 *   committed by accident), `config.yaml` (every setting commented out at its default),
 *   `workflows/` with the starter workflow, `meta.json` (the repository's identity).
 * - Never overwrites a file it did not write: an existing one is kept and reported as kept. The
 *   only file it replaces is a `.gitignore` that is byte for byte one of its own, when the mode
 *   changes (`--portable` / `--no-portable`) or when it is an older text of ours.
 * - Idempotent: a second run writes nothing and says so (`changed: false`).
 * - Every write is atomic (atomicFiles.ts): a crash leaves each file absent or complete.
 * - With git, checks what git really ignores (the repository's other ignore files count too) and
 *   says what to change when the mode is not what git does.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configTemplate } from '../config/template';
import { createFileExclusive, ensureDir, replaceFileAtomic } from './atomicFiles';
import { gitRemote, gitTopLevel, ignoredPaths, trackedFiles, type IgnoreVerdict } from './gitFacts';
import { gitignoreMode, gitignoreText, isCurrentText, PORTABLE_GITIGNORE, type RepoMode } from './gitignoreModes';
import { makeMeta, metaText, readMeta } from './meta';
import { STARTER_WORKFLOW } from './starter';

export interface InitOptions {
  readonly repoRoot: string;
  /** true: portable mode; false: normal mode; undefined: the folder's mode as it is (normal for a new one). */
  readonly portable?: boolean;
  /**
   * A file name in `.orchestrator/workflows/` for the starter workflow (the editor's *Create a
   * Workflow* asks for one). Without it the starter goes to `starter.yaml`, and only when the
   * folder has no workflow yet.
   */
  readonly workflowName?: string;
  readonly homeDir?: string;
  readonly now?: Date;
}

export type InitAction = 'created' | 'kept' | 'updated';

export interface InitItem {
  /** Relative to the repository root, with `/`. */
  readonly path: string;
  readonly action: InitAction;
  readonly note?: string;
}

export interface InitReport {
  readonly repoRoot: string;
  /** The folder's mode now; `custom`: its `.gitignore` was written by hand (git's rules decide). */
  readonly mode: RepoMode | 'custom';
  readonly items: InitItem[];
  /** False when nothing was written. */
  readonly changed: boolean;
  /** The workflow file written or kept (absolute), when there is one to open. */
  readonly workflow?: string;
  /** What the user should do or know: each a sentence that says what to do. */
  readonly notes: string[];
  /** Whether the repository is a git repository (the ignore checks ran). */
  readonly git: boolean;
}

/** A failure the user can fix (the message says how); `usage`: what was asked cannot be done (not a write that failed). */
export class InitError extends Error {
  override readonly name = 'InitError';
  constructor(message: string, readonly usage = false) {
    super(message);
  }
}

export const STARTER_NAME = 'starter.yaml';
const WORKFLOW_NAME = /^[\w][\w.-]*\.ya?ml$/;

/** What we ask git about: a path in each part of the folder (none of them needs to exist). */
const PROBES = {
  secrets: '.orchestrator/secrets/SECRET',
  worktrees: '.orchestrator/worktrees/00000000-000000-init/step/file',
  sessions: '.orchestrator/sessions/00000000-000000-init/state.json',
  workflows: '.orchestrator/workflows/workflow.yaml',
  config: '.orchestrator/config.yaml',
  meta: '.orchestrator/meta.json',
} as const;
type Part = keyof typeof PROBES;

function rel(repoRoot: string, file: string): string {
  return path.relative(repoRoot, file).split(path.sep).join('/');
}

function fail(what: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied: check the folder\'s owner and permissions' : code === 'EROFS' ? 'the file system is read-only' : (e as Error).message;
  throw new InitError(`cannot write ${what}: ${why}`);
}

function hasWorkflows(dir: string): number {
  let n = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (/\.ya?ml$/.test(e.name)) n++;
    }
  };
  try {
    walk(dir);
  } catch {
    // unreadable: counted as none
  }
  return n;
}

export async function initRepository(opts: InitOptions): Promise<InitReport> {
  const root = path.resolve(opts.repoRoot);
  const home = path.resolve(opts.homeDir ?? os.homedir());
  if (root === home) throw new InitError(`${root} is your home folder: its .orchestrator/ holds your own settings and secrets for every repository; run orchestrator init inside a repository`, true);
  if (opts.workflowName !== undefined && !WORKFLOW_NAME.test(opts.workflowName)) throw new InitError(`'${opts.workflowName}' is not a workflow file name: use letters, digits, '.', '_' and '-', ending in .yaml (e.g. review.yaml)`, true);
  const dir = path.join(root, '.orchestrator');
  const items: InitItem[] = [];
  const notes: string[] = [];
  const add = (file: string, action: InitAction, note?: string): void => void items.push({ path: rel(root, file), action, ...(note ? { note } : {}) });
  const git = (await gitTopLevel(root)) !== undefined;

  try {
    ensureDir(dir);
  } catch (e) {
    fail(rel(root, dir) + '/', e);
  }
  const mode = writeGitignore(root, dir, opts.portable, add, notes);
  const switched = items.find((i) => i.path.endsWith('.gitignore'))?.action === 'updated';

  const config = path.join(dir, 'config.yaml');
  try {
    add(config, createFileExclusive(config, configTemplate()) ? 'created' : 'kept');
  } catch (e) {
    fail(rel(root, config), e);
  }

  const workflows = path.join(dir, 'workflows');
  let workflow: string | undefined;
  try {
    ensureDir(workflows);
    const named = path.join(workflows, opts.workflowName ?? STARTER_NAME);
    const others = opts.workflowName === undefined && !fs.existsSync(named) ? hasWorkflows(workflows) : 0;
    if (others > 0) add(workflows, 'kept', `it has ${others} workflow${others === 1 ? '' : 's'}: no starter workflow added`);
    else {
      workflow = named;
      const created = createFileExclusive(named, STARTER_WORKFLOW);
      add(named, created ? 'created' : 'kept', created || opts.workflowName === undefined ? undefined : 'it exists: left as it is');
    }
  } catch (e) {
    if (e instanceof InitError) throw e;
    fail(rel(root, workflows), e);
  }

  const meta = path.join(dir, 'meta.json');
  const existing = readMeta(root);
  if (existing && 'error' in existing) add(meta, 'kept', `it does not parse (${existing.error}): delete it and run orchestrator init again to make it anew`);
  else if (existing) add(meta, 'kept');
  else {
    try {
      add(meta, createFileExclusive(meta, metaText(makeMeta(opts.now ?? new Date(), await gitRemote(root)))) ? 'created' : 'kept');
    } catch (e) {
      fail(rel(root, meta), e);
    }
  }

  if (git) await checkGit(root, mode, switched, notes);
  return { repoRoot: root, mode, items, changed: items.some((i) => i.action !== 'kept'), ...(workflow ? { workflow } : {}), notes, git };
}

/** Writes or keeps `.orchestrator/.gitignore`; returns the folder's mode. */
function writeGitignore(root: string, dir: string, portable: boolean | undefined, add: (file: string, action: InitAction, note?: string) => void, notes: string[]): RepoMode | 'custom' {
  const file = path.join(dir, '.gitignore');
  let current: string | undefined;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') fail(rel(root, file), e);
  }
  const asked: RepoMode | undefined = portable === undefined ? undefined : portable ? 'portable' : 'normal';
  if (current === undefined) {
    const mode = asked ?? 'normal';
    try {
      if (createFileExclusive(file, gitignoreText(mode))) {
        add(file, 'created');
        return mode;
      }
    } catch (e) {
      fail(rel(root, file), e);
    }
    current = fs.readFileSync(file, 'utf8'); // appeared meanwhile (a session started): judged as found
  }
  const found = gitignoreMode(current);
  if (found === 'custom') {
    add(file, 'kept', 'edited by hand: left as it is');
    if (asked) notes.push(`.orchestrator/.gitignore was edited by hand, so init did not switch it to ${asked} mode: ${asked === 'portable' ? `make it ignore secrets/ and worktrees/ but not sessions/, e.g.\n${PORTABLE_GITIGNORE.trimEnd()}` : 'make it ignore sessions/, secrets/ and worktrees/'}`);
    return 'custom';
  }
  const mode = asked ?? found;
  if (mode === found && isCurrentText(current)) {
    add(file, 'kept');
    return mode;
  }
  try {
    replaceFileAtomic(file, gitignoreText(mode));
  } catch (e) {
    fail(rel(root, file), e);
  }
  add(file, 'updated', mode === found ? 'an older text of ours: now also keeps worktrees/ out of git' : `switched from ${found} to ${mode} mode`);
  return mode;
}

/** What git really does with each part; notes for what does not match the mode. */
async function checkGit(root: string, mode: RepoMode | 'custom', switched: boolean, notes: string[]): Promise<void> {
  const verdicts = await ignoredPaths(root, Object.values(PROBES));
  if (!verdicts) return;
  const of = (part: Part): IgnoreVerdict | undefined => verdicts.find((v) => v.path === PROBES[part]);
  const ignored = (part: Part): boolean => of(part)?.ignored ?? false;
  const by = (part: Part): string => (of(part)?.rule ? ` (${of(part)!.rule})` : '');
  if (!ignored('secrets')) notes.push(`git would commit secret files: make .orchestrator/.gitignore ignore secrets/${by('secrets')}`);
  if (!ignored('worktrees')) notes.push(`git would see the steps' worktrees: make .orchestrator/.gitignore ignore worktrees/${by('worktrees')}`);
  if (mode === 'normal' && !ignored('sessions')) notes.push(`git would commit sessions although this is normal mode: a rule un-ignores them${by('sessions')}; remove it, or run orchestrator init --portable`);
  if (mode === 'portable' && ignored('sessions')) notes.push(`portable mode, but git ignores the sessions${by('sessions')}: remove that rule, or they will not be committed`);
  for (const part of ['workflows', 'config', 'meta'] as const) {
    if (ignored(part)) notes.push(`git ignores ${PROBES[part].replace('/workflow.yaml', '/')}${by(part)}: it belongs in the repository; remove that rule`);
  }
  const secrets = await trackedFiles(root, '.orchestrator/secrets');
  if (secrets?.length) notes.push(`git tracks secret files (${secrets.join(', ')}): run git rm --cached ${secrets.join(' ')}, and change those secrets (they are in the history)`);
  if (switched && mode === 'normal') {
    const sessions = await trackedFiles(root, '.orchestrator/sessions');
    if (sessions?.length) notes.push(`git still tracks ${sessions.length} file${sessions.length === 1 ? '' : 's'} of sessions committed in portable mode: git rm -r --cached .orchestrator/sessions stops tracking them (they stay on disk)`);
  }
  if (switched && mode === 'portable') notes.push('sessions are no longer ignored: git add .orchestrator/sessions to commit them');
}

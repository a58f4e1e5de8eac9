/**
 * The scratch folder of a runner: where $ORCHESTRATOR_OUTPUT and $ORCHESTRATOR_FINDINGS point.
 *
 * A step writes those files unmasked (secrets included), so they live in a private temp folder
 * outside the session (sessions.md: secrets never reach the session's files) and are removed once
 * they are read. One folder per runner process (mode 0700, removed at exit), two files per attempt:
 * cheap enough for thousands of steps.
 *
 * A runner killed with SIGKILL cannot remove its folder. So that the raw outputs it held do not
 * wait on disk for the next runner's sweep, each session the runner works for gets a pointer to the
 * folder, `<session>/.scratch/<folder name>` = `{ dir, pid, procStart }` (a path, no secret), and
 * the next read of that session (loadSession) removes the folder of a runner that is dead
 * (removeDeadScratch). The sweep at the first step of every runner stays, for the folders whose
 * session is gone.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomically } from '../../store/durableFile';
import { processAlive, procStat } from '../../store/liveness';

const PREFIX = 'orch-steps-';

let scratchDir: string | undefined;
let scratchSeq = 0;
/** The pointers this process wrote (session folders that know its scratch folder), removed at exit. */
const pointers = new Set<string>();

interface Pointer {
  readonly dir: string;
  readonly pid: number;
  readonly procStart?: number;
}

/** A fresh prefix for one attempt's files (`<folder>/<n>-`), in the folder `sessionDir` knows of. */
export function scratchPrefix(sessionDir: string): string {
  const dir = ensureScratch();
  const pointer = path.join(sessionDir, '.scratch', path.basename(dir));
  if (!pointers.has(pointer)) {
    const start = procStat(process.pid)?.start;
    const p: Pointer = { dir, pid: process.pid, ...(start !== undefined ? { procStart: start } : {}) };
    fs.mkdirSync(path.dirname(pointer), { recursive: true });
    // Written whole or not at all (a reader never sees a half-written pointer).
    writeFileAtomically(pointer, JSON.stringify(p) + '\n');
    pointers.add(pointer);
  }
  return path.join(dir, `${++scratchSeq}-`);
}

function ensureScratch(): string {
  if (!scratchDir || !fs.existsSync(scratchDir)) {
    sweepDeadScratch();
    scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
    const dir = scratchDir;
    process.once('exit', () => {
      fs.rmSync(dir, { recursive: true, force: true });
      for (const p of pointers) removePointer(p);
    });
  }
  return scratchDir;
}

/** Scratch folders of runners that died without cleaning up (kill -9) may hold raw outputs: remove them. */
function sweepDeadScratch(): void {
  let names: string[];
  try {
    names = fs.readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^orch-steps-(\d+)-/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    if (!processAlive(Number(m[1]), undefined)) fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

/**
 * For readers of a session (no live runner owns it): removes the scratch folders of the session's
 * dead runners, and their pointers. Cheap when there are none (one failed readdir). Never throws.
 */
export function removeDeadScratch(sessionDir: string): void {
  const folder = path.join(sessionDir, '.scratch');
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue; // a pointer being written
    const file = path.join(folder, name);
    const p = readPointer(file);
    try {
      if (p && processAlive(p.pid, p.procStart)) continue;
      // Only a folder of ours, named after the pid that made it: a damaged pointer cannot make us remove anything else.
      if (p && path.isAbsolute(p.dir) && path.basename(p.dir) === name && name.startsWith(`${PREFIX}${p.pid}-`)) fs.rmSync(p.dir, { recursive: true, force: true });
      removePointer(file);
    } catch {
      // not ours to remove, or gone already
    }
  }
}

function readPointer(file: string): Pointer | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Pointer>;
    if (typeof v.dir !== 'string' || !Number.isSafeInteger(v.pid) || (v.pid as number) <= 0) return undefined;
    if (v.procStart !== undefined && !Number.isSafeInteger(v.procStart)) return undefined;
    return v as Pointer;
  } catch {
    return undefined;
  }
}

function removePointer(file: string): void {
  try {
    fs.rmSync(file, { force: true });
    fs.rmdirSync(path.dirname(file)); // only when empty
  } catch {
    // another pointer is left, or it is gone already
  }
}

/** The session's runner in this process ended: its steps' files are gone, so is the session's pointer. */
export function releaseScratch(sessionDir: string): void {
  if (!scratchDir) return;
  const pointer = path.join(sessionDir, '.scratch', path.basename(scratchDir));
  if (pointers.delete(pointer)) removePointer(pointer);
}

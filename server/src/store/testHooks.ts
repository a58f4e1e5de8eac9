/**
 * Hooks for the crash and race tests, inert unless their environment variable is set (nothing a
 * user sets; the names say TEST). They let a test stop or kill a real process at an exact point
 * of a multi-step operation instead of guessing a time window:
 *
 *   ORCHESTRATOR_TEST_CRASH_TRACE=FILE   every crash point appends its label to FILE
 *   ORCHESTRATOR_TEST_CRASH_AT=N         the N-th crash point reached kills this process (SIGKILL)
 *   ORCHESTRATOR_TEST_PAUSE_DIR=DIR      at a pause point LABEL with a fifo DIR/LABEL.fifo: create
 *                                        DIR/LABEL.reached, then wait until the test writes the fifo
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

let reached = 0;

/** A point where a crash must leave a state that every reader copes with (migrate.ts, migrateJournal.ts). */
export function crashPoint(label: string): void {
  const trace = process.env.ORCHESTRATOR_TEST_CRASH_TRACE;
  const at = process.env.ORCHESTRATOR_TEST_CRASH_AT;
  if (!trace && !at) return;
  reached++;
  if (trace) fs.appendFileSync(trace, `${reached} ${label}\n`);
  if (at && Number(at) === reached) process.kill(process.pid, 'SIGKILL');
}

/** A point where a race test holds this process until it has set up the other side (prune.ts). */
export function pausePoint(label: string): void {
  const dir = process.env.ORCHESTRATOR_TEST_PAUSE_DIR;
  if (!dir) return;
  const fifo = path.join(dir, `${label}.fifo`);
  if (!fs.existsSync(fifo)) return;
  fs.writeFileSync(path.join(dir, `${label}.reached`), String(process.pid));
  fs.readFileSync(fifo); // blocks until the test opens the fifo for writing and closes it
}

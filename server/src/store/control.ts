/**
 * control.jsonl: commands for a session's runner from other processes (the CLI, the editor's
 * host). Appended with O_APPEND (one short line per write is atomic) and fsync'd; the runner
 * watches the file and applies each command once (state.controlApplied counts them). A command
 * for a session without a live runner waits in the file until a runner (resume) applies it.
 */
import * as fs from 'node:fs';

export type ControlCommand =
  | { type: 'pause'; by?: string }
  | { type: 'cancel'; by?: string; reason?: string }
  | { type: 'approve'; step: string; by?: string; reason?: string }
  | { type: 'reject'; step: string; by?: string; reason?: string }
  | { type: 'retry'; step: string; by?: string };

export interface ControlEntry {
  readonly time: string;
  readonly command: ControlCommand;
}

export function appendControl(file: string, command: ControlCommand): void {
  const fd = fs.openSync(file, 'a');
  try {
    fs.writeSync(fd, JSON.stringify({ time: new Date().toISOString(), command }) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Every complete command in the file, in order (a torn last line is ignored). */
export function readControl(file: string): ControlEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: ControlEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    try {
      const e = JSON.parse(lines[i]) as ControlEntry;
      if (e && typeof e === 'object' && e.command && typeof e.command.type === 'string') out.push(e);
    } catch {
      /* a damaged line: skip it */
    }
  }
  return out;
}

/** Printing for the CLI: colours only on a TTY (and never with NO_COLOR). */
import type { Writable } from 'node:stream';

export interface Out {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
}

/**
 * Makes every later write to `stream` go through `mask` (a session's secrets as `***`): what a
 * running session's command prints, including a detached runner's stderr, which goes to
 * `.orchestrator/sessions/.<id>.runner.log` on disk. Returns the undo.
 */
export function maskWrites(stream: Writable, mask: (text: string) => string): () => void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    if (typeof chunk === 'string') return write(mask(chunk), ...rest);
    if (Buffer.isBuffer(chunk)) return write(mask(chunk.toString('utf8')), ...rest.filter((r) => typeof r !== 'string'));
    return write(chunk, ...rest);
  }) as Writable['write'];
  return () => {
    stream.write = write as Writable['write'];
  };
}

const CODES = { red: 31, yellow: 33, green: 32, dim: 2, bold: 1, cyan: 36 } as const;

export function painter(stream: { isTTY?: boolean }): (color: keyof typeof CODES, s: string) => string {
  const on = !!stream.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  return (color, s) => (on ? `\u001b[${CODES[color]}m${s}\u001b[0m` : s);
}

/** A clear one-line error for the user (never a stack trace). */
export class UsageError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

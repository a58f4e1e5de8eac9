/** Printing for the CLI: colours only on a TTY (and never with NO_COLOR). */
import type { Writable } from 'node:stream';

export interface Out {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
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

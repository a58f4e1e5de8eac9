/**
 * Reading a secret's value for `secrets set`: from a hidden prompt on a terminal (nothing is
 * echoed, not even asterisks, which would tell its length; asked twice to catch a typo), or from
 * stdin when it is not a terminal (a pipe or a file: `pass show x | orchestrator secrets set X`),
 * minus one trailing newline.
 */
import type { Writable } from 'node:stream';

export class PromptCancelled extends Error {
  constructor() {
    super('cancelled: nothing was written');
  }
}

/** One line from a terminal in raw mode, without echo. Ctrl-C cancels; Backspace deletes; Enter ends. */
export function readHiddenLine(prompt: string, input: NodeJS.ReadStream, output: Writable): Promise<string> {
  // Echo off before the prompt shows: what is typed once it is visible is never echoed.
  input.setRawMode(true);
  output.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    let escape = false;
    const done = (err?: Error): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (escape) {
          // The rest of an escape sequence (arrow keys and the like): ends with a letter or ~.
          if (/[A-Za-z~]/.test(ch)) escape = false;
          continue;
        }
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new PromptCancelled());
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch === '\u001b') escape = true;
        else if (ch >= ' ') value += ch;
      }
    };
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
  });
}

/** Everything on a (non-terminal) stdin, minus one trailing newline. */
export async function readAllStdin(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** The value of a secret: hidden prompt (twice) on a terminal, else all of stdin. */
export async function readSecretValue(name: string, input: NodeJS.ReadStream, output: Writable): Promise<string> {
  if (!input.isTTY) return readAllStdin(input);
  const first = await readHiddenLine(`Value of ${name} (hidden): `, input, output);
  if (first === '') return first;
  const again = await readHiddenLine(`Again, to confirm: `, input, output);
  if (again !== first) throw new Error('the two values differ: nothing was written; run the command again');
  return first;
}

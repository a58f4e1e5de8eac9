/**
 * Output to a pipe that closed early (`orchestrator logs ID | head -1`): without a handler, Node
 * dies of the EPIPE with a stack trace. Reading commands stop quietly, as Unix tools do when the
 * reader goes away (exit 141, 128 + SIGPIPE, with nothing printed). A command that runs a session
 * in this process (`run`, `resume` without --detach) must not die half-way through a session for
 * want of a reader: it drops further output and runs to the end, with its usual exit code.
 */

/** Exit status of a process ended by SIGPIPE, which Node ignores (so it is said by hand). */
export const EXIT_PIPE_CLOSED = 141;

let keepRunning = false;

/** From now on, a closed stdout/stderr drops output instead of ending the process. */
export function keepRunningWhenOutputCloses(): void {
  keepRunning = true;
}

type Stream = NodeJS.WriteStream;

function drop(s: Stream): void {
  // Every later write succeeds without writing (the stream is destroyed; writing to it would throw).
  const discard = (_chunk: unknown, enc?: unknown, cb?: unknown): boolean => {
    const done = typeof enc === 'function' ? enc : cb;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  };
  s.write = discard;
}

/** Installs the handlers on the process's stdout and stderr (the CLI's entry point calls it once). */
export function guardPipes(streams: Stream[] = [process.stdout, process.stderr], exit: (code: number) => void = (c) => process.exit(c)): void {
  for (const s of streams) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') {
        // Not a closed pipe (a full disk behind a redirection...): say so once, in one line.
        if (s !== process.stderr) process.stderr.write(`orchestrator: cannot write the output: ${e.message}\n`);
        exit(74);
        return;
      }
      if (keepRunning) drop(s);
      else exit(EXIT_PIPE_CLOSED);
    });
  }
}

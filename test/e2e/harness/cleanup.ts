/**
 * Cleanup at exit: the code-server process groups this process started and the temp dirs it
 * made. stop() of a server removes its own; the exit hook catches what a dying test process
 * leaves (kills by process group, never by name).
 */
import fs from 'node:fs';

/** Pids of the code-servers started and not yet stopped (each leads its own process group). */
export const liveServers = new Set<number>();
/** Temp dirs to remove at exit (server roots, fixture copies). */
export const tempDirs = new Set<string>();
let exitHooked = false;

export function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const pid of liveServers) killGroup(pid, 'SIGKILL');
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const pid of liveServers) killGroup(pid, 'SIGKILL');
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Kills the process group led by `pid` (we spawn code-server detached, so its group is its own). */
export function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}

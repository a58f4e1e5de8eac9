// `npm run demo` (after the build): the repository reviews itself with .orchestrator/workflows/review.yaml.
// With an agent provider named `reviewer` configured (.orchestrator/config.yaml or
// ~/.orchestrator/config.yaml), the agents review the last commit for real. Without one, the session
// recorded in .orchestrator/recordings/review is replayed: its agents' answers come from the
// recording (no provider is called), the other steps run for real. Then the findings are printed.
// The exit code is the run's (0 when the session succeeded).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'server', 'out', 'cli.js');
const read = (f) => {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};
const configured = [path.join('.orchestrator', 'config.yaml'), path.join(os.homedir(), '.orchestrator', 'config.yaml')].some((f) => /^\s+reviewer:/m.test(read(f)));
const recording = path.join('.orchestrator', 'recordings', 'review');
const args = configured ? ['run', path.join('.orchestrator', 'workflows', 'review.yaml')] : ['replay', recording];
if (!configured) {
  process.stdout.write(
    `No agent provider named 'reviewer' is configured, so this is a REPLAY: the agent steps answer from the session recorded in ${recording}\n` +
      `(no model is called); lint, typecheck, the unit tests and the TODO scan run for real. Configure a provider to review live, e.g.\n` +
      `  .orchestrator/config.yaml:  providers: { reviewer: { type: claude-code } }\n\n`,
  );
}
const run = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
spawnSync(process.execPath, [cli, 'findings', 'latest'], { stdio: 'inherit' });
if (!configured) process.stdout.write(`\n(a replay of ${recording}: see orchestrator show latest)\n`);
process.exitCode = run.status ?? 1;

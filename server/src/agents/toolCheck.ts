/**
 * Is a provider's tool there? Its program found (on PATH, or at the path the config gives) and
 * the first line of its `--version`, asked with no prompt and no secret in its environment.
 * Shared by `orchestrator providers` and `orchestrator doctor` (engine side: no CLI, no editor).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SECRET_ENV_PREFIX } from '../engine/secrets';

/** The longest a `--version` may take (a hang guard: a tool that asks for input is killed). */
const VERSION_TIMEOUT_MS = 15_000;

export interface ToolCheck {
  found: boolean;
  path?: string;
  version?: string;
  error?: string;
}

function findOnPath(program: string, cwd: string): string | undefined {
  const isFile = (p: string) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes('/') || program.includes('\\')) {
    const p = path.resolve(cwd, program);
    return isFile(p) ? p : undefined;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, program);
    if (isFile(p)) return p;
  }
  return undefined;
}

/** The environment a version probe runs in: no secret, plus the provider's literal env. */
function probeEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith(SECRET_ENV_PREFIX)) env[k] = v;
  return { ...env, ...extra };
}

function firstLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  const line = s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').split('\n').map((l) => l.trim()).find(Boolean) ?? '';
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

export function checkTool(program: readonly string[], cwd: string, env: Record<string, string>): Promise<ToolCheck> {
  const found = findOnPath(program[0], cwd);
  const where = program[0].includes('/') ? '' : ' on PATH';
  if (!found) return Promise.resolve({ found: false, error: `${program[0]} not found${where}` });
  return new Promise((resolve) => {
    const child = execFile(found, [...program.slice(1), '--version'], { cwd, env: probeEnv(env), timeout: VERSION_TIMEOUT_MS, maxBuffer: 1024 * 1024, windowsHide: true }, (err, stdout, stderr) => {
      const version = firstLine(stdout) || firstLine(stderr);
      if (err) {
        const why = err.killed ? `--version did not answer within ${VERSION_TIMEOUT_MS / 1000} s` : `--version failed${typeof err.code === 'number' ? ` (exit code ${err.code})` : ''}`;
        resolve({ found: true, path: found, error: version ? `${why}: ${version}` : why });
      } else resolve({ found: true, path: found, ...(version ? { version } : {}) });
    });
    child.stdin?.end();
  });
}

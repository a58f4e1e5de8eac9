/**
 * Spawns a real agent CLI with the prompt on stdin (written whole, then closed) and collects what it
 * prints. Lines of stdout are reported as they come (`onLine`), so a test can wait for one.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AGENT_TOOLS, BIN_ENV, type AgentTool } from './setup';

export interface ToolResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit, for the docs (never asserted). */
  ms: number;
}

export interface RunOptions {
  bin: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  prompt: string;
  onLine?: (line: string) => void;
  /** A last guard against a hung tool (kills its process group); tests wait for events, not for this. */
  guardMs?: number;
}

export function runTool(o: RunOptions): Promise<ToolResult> {
  const started = process.hrtime.bigint();
  const child = spawn(o.bin, o.args, { cwd: o.cwd, env: o.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    stdout += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) o.onLine?.(l);
  });
  child.stderr.on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined); // a tool that exits before reading all of stdin
  child.stdin.end(o.prompt);
  const guard = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, o.guardMs ?? 300_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearTimeout(guard);
      if (partial) o.onLine?.(partial);
      resolve({ exitCode, signal, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

/** The installed binary of each tool: from the env run.ts sets, else from the install manifest. */
export function toolBin(tool: AgentTool): string | undefined {
  const fromEnv = process.env[BIN_ENV[tool]];
  if (fromEnv) return fromEnv;
  const root = process.env.SYNAPSE_AGENT_CLI_CACHE || path.join(os.homedir(), '.cache', 'synapse-orchestrator-agents');
  try {
    const m = JSON.parse(fs.readFileSync(path.join(root, 'current.json'), 'utf8')) as { tools: Record<string, { bin: string }> };
    const bin = m.tools[tool]?.bin;
    return bin && fs.existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

export const allTools = (): AgentTool[] => [...AGENT_TOOLS];

/** A temp git repository (`git init`, one file, no commit) and a plain folder, for a tool to run in. */
export function makeWorkdirs(root: string): { repo: string; plain: string } {
  const repo = path.join(root, 'repo');
  const plain = path.join(root, 'plain');
  fs.mkdirSync(repo, { recursive: true });
  fs.mkdirSync(plain, { recursive: true });
  const git = spawnSync('git', ['init', '-q', repo], { encoding: 'utf8' });
  if (git.status !== 0) throw new Error(`git init failed: ${git.stderr}`);
  fs.writeFileSync(path.join(repo, 'README.md'), '# demo\n');
  fs.writeFileSync(path.join(plain, 'README.md'), '# demo\n');
  return { repo, plain };
}

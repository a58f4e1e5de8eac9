/**
 * The real-agent-CLI suite: installs the pinned CLIs into the cache (scripts/install-agent-clis.mjs;
 * a no-op when they are there), puts each binary's path in the env (AGENT_BIN_*), then runs
 * test/agents-real/*.test.ts (or the files given) with node's test runner.
 * Usage: node --import tsx test/agents-real/run.ts [test files…]
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN_ENV, type AgentTool } from './setup';

const ROOT = path.join(import.meta.dirname, '..', '..');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, capture: boolean): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });
}

async function main(): Promise<number> {
  const install = await run(process.execPath, [path.join(ROOT, 'scripts', 'install-agent-clis.mjs'), '--json'], process.env, true);
  if (install.code !== 0) {
    console.error('agents-real: installing the agent CLIs failed (see above); nothing was tested.');
    return install.code;
  }
  const manifest = JSON.parse(install.out) as { tools: Record<string, { bin: string; version: string }> };
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [tool, name] of Object.entries(BIN_ENV) as [AgentTool, string][]) {
    const m = manifest.tools[tool];
    if (!m) continue;
    env[name] = m.bin;
    console.log(`agents-real: ${tool} ${m.version} at ${m.bin}`);
  }
  const given = process.argv.slice(2);
  const dir = path.join(ROOT, 'test', 'agents-real');
  const files = given.length ? given : fs.readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join('test', 'agents-real', f));
  const test = await run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files], env, false);
  return test.code;
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(`agents-real: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});

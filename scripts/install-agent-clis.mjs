#!/usr/bin/env node
/**
 * Installs the real agent CLIs (claude-code, codex, gemini-cli, opencode) used by the real-CLI test
 * suite, each from its own pinned lock in test/agents-real/tools/<tool>/, into a cache folder keyed by
 * version and lock hash: ~/.cache/synapse-orchestrator-agents/<tool>-<version>-<hash>/ (root
 * overridable with SYNAPSE_AGENT_CLI_CACHE). A folder counts as installed only when its marker
 * `.installed.json` is there; the install runs in a temporary sibling folder, checks that the binary
 * answers `--version`, writes the marker last, then renames the folder into place, so an interrupted
 * install is redone and two concurrent runs do not see each other's half-installed trees.
 *
 * Writes the manifest <cache>/current.json ({tools: {<tool>: {version, dir, bin, versionOutput}}}).
 * Usage: node scripts/install-agent-clis.mjs [--json] [--only tool,tool]
 *   --json   print the manifest on stdout (progress goes to stderr either way)
 * Exit: 0 all installed; 1 an install or version check failed; 2 bad arguments.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const TOOLS_DIR = path.join(here, '..', 'test', 'agents-real', 'tools');

/** Binary name (in node_modules/.bin) of each tool. */
export const TOOLS = {
  'claude-code': { pkg: '@anthropic-ai/claude-code', bin: 'claude' },
  codex: { pkg: '@openai/codex', bin: 'codex' },
  'gemini-cli': { pkg: '@google/gemini-cli', bin: 'gemini' },
  opencode: { pkg: 'opencode-ai', bin: 'opencode' },
};

export function cacheRoot() {
  return process.env.SYNAPSE_AGENT_CLI_CACHE || path.join(os.homedir(), '.cache', 'synapse-orchestrator-agents');
}

/** Where a tool's pinned lock installs: <cache>/<tool>-<version>-<first 12 hex of sha256(package.json + lock)>. */
export function installDir(tool) {
  const src = path.join(TOOLS_DIR, tool);
  const pkgText = fs.readFileSync(path.join(src, 'package.json'), 'utf8');
  const lockText = fs.readFileSync(path.join(src, 'package-lock.json'), 'utf8');
  const version = JSON.parse(pkgText).dependencies[TOOLS[tool].pkg];
  const hash = createHash('sha256').update(pkgText).update('\0').update(lockText).digest('hex').slice(0, 12);
  return { src, version, dir: path.join(cacheRoot(), `${tool}-${version}-${hash}`) };
}

function run(cmd, args, opts) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => resolve({ code: -1, out: `${out}${e.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), out }));
  });
}

/** Bytes on disk under `dir`, each hard-linked file counted once (postinstalls hard-link the native binaries). */
function duBytes(dir) {
  let total = 0;
  const seen = new Set();
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = fs.statSync(p);
        if (!seen.has(st.ino)) total += st.size;
        seen.add(st.ino);
      }
    }
  };
  walk(dir);
  return total;
}

/** `<bin> --version` in a throwaway HOME, so the check writes nothing into the user's config. */
async function versionOf(bin) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-cli-version-'));
  try {
    const env = { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local/share'), XDG_CACHE_HOME: path.join(home, '.cache'), XDG_STATE_HOME: path.join(home, '.local/state') };
    return await run(bin, ['--version'], { env, cwd: home });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Removes `<dir>.partial-<pid>` folders left by an install whose process is gone (interrupted). */
function removeStalePartials(dir) {
  const base = `${path.basename(dir)}.partial-`;
  for (const name of fs.readdirSync(path.dirname(dir))) {
    const pid = Number(name.startsWith(base) ? name.slice(base.length) : NaN);
    if (Number.isInteger(pid) && !alive(pid)) fs.rmSync(path.join(path.dirname(dir), name), { recursive: true, force: true });
  }
}

/** Installs one tool unless its marker is there; returns its manifest entry. */
export async function installTool(tool, log = (m) => process.stderr.write(`${m}\n`)) {
  const { src, version, dir } = installDir(tool);
  const bin = path.join(dir, 'node_modules', '.bin', TOOLS[tool].bin);
  const marker = path.join(dir, '.installed.json');
  if (fs.existsSync(marker)) {
    const m = JSON.parse(fs.readFileSync(marker, 'utf8'));
    log(`${tool} ${version}: cached in ${dir}`);
    return { version, dir, bin, versionOutput: m.versionOutput, installSeconds: m.installSeconds, bytes: m.bytes };
  }
  fs.mkdirSync(cacheRoot(), { recursive: true });
  if (fs.existsSync(dir)) fs.rmSync(dir, { recursive: true, force: true }); // a marker-less leftover
  removeStalePartials(dir);
  const tmp = `${dir}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  fs.copyFileSync(path.join(src, 'package.json'), path.join(tmp, 'package.json'));
  fs.copyFileSync(path.join(src, 'package-lock.json'), path.join(tmp, 'package-lock.json'));
  log(`${tool} ${version}: npm ci into ${tmp} ...`);
  const started = process.hrtime.bigint();
  const npm = await run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tmp, env: process.env });
  if (npm.code !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`${tool}: npm ci failed (exit ${npm.code}):\n${npm.out.trim()}`);
  }
  const installSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const tmpBin = path.join(tmp, 'node_modules', '.bin', TOOLS[tool].bin);
  const v = await versionOf(tmpBin);
  if (v.code !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`${tool}: installed, but \`${TOOLS[tool].bin} --version\` failed (exit ${v.code}): ${v.out.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const versionOutput = v.out.trim();
  const bytes = duBytes(tmp);
  fs.writeFileSync(path.join(tmp, '.installed.json'), `${JSON.stringify({ tool, version, versionOutput, installSeconds, bytes, at: new Date().toISOString() }, null, 2)}\n`);
  try {
    fs.renameSync(tmp, dir);
  } catch (e) {
    // Another run finished the same install first: keep its copy.
    if (!fs.existsSync(marker)) throw e;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`${tool} ${version}: installed in ${installSeconds.toFixed(1)} s, ${(bytes / 1048576).toFixed(0)} MiB, \`--version\`: ${versionOutput}`);
  return { version, dir, bin, versionOutput, installSeconds, bytes };
}

/** Installs every tool (or `only`), writes <cache>/current.json and returns the manifest. */
export async function installAgentClis({ only, log } = {}) {
  const names = only?.length ? only : Object.keys(TOOLS);
  const results = await Promise.allSettled(names.map((t) => installTool(t, log)));
  const tools = {};
  const errors = [];
  results.forEach((r, i) => (r.status === 'fulfilled' ? (tools[names[i]] = r.value) : errors.push(r.reason.message)));
  const manifestPath = path.join(cacheRoot(), 'current.json');
  let previous = {};
  try {
    previous = JSON.parse(fs.readFileSync(manifestPath, 'utf8')).tools ?? {};
  } catch {
    // none yet
  }
  const manifest = { cacheRoot: cacheRoot(), tools: { ...previous, ...tools } };
  fs.mkdirSync(cacheRoot(), { recursive: true });
  fs.writeFileSync(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.renameSync(`${manifestPath}.tmp`, manifestPath);
  return { manifest, errors };
}

async function main() {
  const args = process.argv.slice(2);
  let json = false;
  let only;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--json') json = true;
    else if (args[i] === '--only') only = (args[++i] ?? '').split(',').filter(Boolean);
    else if (args[i] === '--help' || args[i] === '-h') {
      process.stdout.write('Usage: node scripts/install-agent-clis.mjs [--json] [--only claude-code,codex,gemini-cli,opencode]\n');
      return 0;
    } else {
      process.stderr.write(`install-agent-clis: unknown argument ${args[i]}; see --help\n`);
      return 2;
    }
  }
  const unknown = (only ?? []).filter((t) => !(t in TOOLS));
  if (unknown.length) {
    process.stderr.write(`install-agent-clis: unknown tool ${unknown.join(', ')}; known: ${Object.keys(TOOLS).join(', ')}\n`);
    return 2;
  }
  const { manifest, errors } = await installAgentClis({ only });
  for (const e of errors) process.stderr.write(`install-agent-clis: ${e}\n`);
  if (json) process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
  else for (const [t, m] of Object.entries(manifest.tools)) process.stdout.write(`${t}\t${m.version}\t${m.bin}\n`);
  return errors.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => process.exit(code), (e) => {
    process.stderr.write(`install-agent-clis: ${e.message}\n`);
    process.exit(1);
  });
}

/**
 * How to run each real agent CLI headless against a loopback model server, isolated from the user's
 * own config: given the server's URL and a temp dir, `setupTool` writes the tool's config files under
 * that dir and returns the argv (after the binary) and the whole environment to spawn it with. The
 * prompt goes on stdin, which the caller closes. Facts behind each choice: docs/agent-clis-verified.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const AGENT_TOOLS = ['claude-code', 'codex', 'gemini-cli', 'opencode'] as const;
export type AgentTool = (typeof AGENT_TOOLS)[number];

/** The binary's env var set by test/agents-real/run.ts from the install manifest. */
export const BIN_ENV: Record<AgentTool, string> = {
  'claude-code': 'AGENT_BIN_CLAUDE',
  codex: 'AGENT_BIN_CODEX',
  'gemini-cli': 'AGENT_BIN_GEMINI',
  opencode: 'AGENT_BIN_OPENCODE',
};

export interface SetupOptions {
  /** `http://127.0.0.1:PORT` of the fake model server (no path). */
  baseUrl: string;
  /** An empty temp dir: HOME and every config/data/cache dir of the tool go under it. */
  dir: string;
  /** The API key the tool sends (default "fake-key-<tool>"). */
  apiKey?: string;
  model?: string;
  /** Retries the tool may make by itself on 429/5xx (default 0, where the tool allows it). */
  retries?: number;
  /** PATH for the child (default: the test process's PATH; codex and gemini need `node` on it). */
  path?: string;
}

export interface ToolSetup {
  tool: AgentTool;
  args: string[];
  env: Record<string, string>;
  /** Files written, absolute. */
  files: string[];
  apiKey: string;
  model: string;
}

function write(file: string, text: string, files: string[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  files.push(file);
}

/** HOME, XDG dirs and a minimal PATH: the base every tool gets (nothing of the test's own env). */
function baseEnv(o: SetupOptions): Record<string, string> {
  const h = o.dir;
  return {
    PATH: o.path ?? process.env.PATH ?? '/usr/bin:/bin',
    HOME: h,
    XDG_CONFIG_HOME: path.join(h, '.config'),
    XDG_DATA_HOME: path.join(h, '.local', 'share'),
    XDG_CACHE_HOME: path.join(h, '.cache'),
    XDG_STATE_HOME: path.join(h, '.local', 'state'),
    TMPDIR: path.join(h, 'tmp'),
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
  };
}

export function setupTool(tool: AgentTool, o: SetupOptions): ToolSetup {
  fs.mkdirSync(path.join(o.dir, 'tmp'), { recursive: true });
  const apiKey = o.apiKey ?? `fake-key-${tool}`;
  const model = o.model ?? 'fake-model';
  const retries = o.retries ?? 0;
  const files: string[] = [];
  const env = baseEnv(o);
  switch (tool) {
    case 'claude-code': {
      Object.assign(env, {
        CLAUDE_CONFIG_DIR: path.join(o.dir, '.claude'),
        ANTHROPIC_BASE_URL: o.baseUrl,
        ANTHROPIC_API_KEY: apiKey,
        CLAUDE_CODE_MAX_RETRIES: String(retries),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
      });
      const args = ['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--model', model];
      return { tool, args, env, files, apiKey, model };
    }
    case 'codex': {
      const home = path.join(o.dir, '.codex');
      env.CODEX_HOME = home;
      env.CODEX_FAKE_API_KEY = apiKey;
      write(path.join(home, 'config.toml'), [
        `model = ${JSON.stringify(model)}`,
        'model_provider = "fake"',
        'check_for_update_on_startup = false',
        '[analytics]',
        'enabled = false',
        '[feedback]',
        'enabled = false',
        '[model_providers.fake]',
        'name = "fake"',
        `base_url = ${JSON.stringify(`${o.baseUrl}/v1`)}`,
        'env_key = "CODEX_FAKE_API_KEY"',
        'wire_api = "responses"',
        `request_max_retries = ${retries}`,
        `stream_max_retries = ${retries}`,
        '',
      ].join('\n'), files);
      const args = ['exec', '--json', '--skip-git-repo-check', '--ephemeral', '-'];
      return { tool, args, env, files, apiKey, model };
    }
    case 'gemini-cli': {
      env.GEMINI_CLI_HOME = o.dir;
      env.GEMINI_API_KEY = apiKey;
      env.GOOGLE_GEMINI_BASE_URL = o.baseUrl;
      write(path.join(o.dir, '.gemini', 'settings.json'), `${JSON.stringify({
        security: { auth: { selectedType: 'gemini-api-key' } },
        general: { maxAttempts: Math.max(1, retries + 1), enableAutoUpdate: false, enableAutoUpdateNotification: false },
        privacy: { usageStatisticsEnabled: false },
        telemetry: { enabled: false },
      }, null, 2)}\n`, files);
      const args = ['--output-format', 'stream-json', '--skip-trust', '-m', model];
      return { tool, args, env, files, apiKey, model };
    }
    case 'opencode': {
      env.FAKE_OPENCODE_API_KEY = apiKey;
      Object.assign(env, { OPENCODE_DISABLE_AUTOUPDATE: 'true', OPENCODE_DISABLE_MODELS_FETCH: 'true', OPENCODE_DISABLE_LSP_DOWNLOAD: 'true', OPENCODE_DISABLE_DEFAULT_PLUGINS: 'true' });
      write(path.join(env.XDG_CONFIG_HOME, 'opencode', 'opencode.json'), `${JSON.stringify({
        $schema: 'https://opencode.ai/config.json',
        model: `fake/${model}`,
        small_model: `fake/${model}`,
        autoupdate: false,
        share: 'disabled',
        provider: { fake: { npm: '@ai-sdk/openai-compatible', name: 'Fake', options: { baseURL: `${o.baseUrl}/v1`, apiKey: '{env:FAKE_OPENCODE_API_KEY}' }, models: { [model]: { name: model } } } },
      }, null, 2)}\n`, files);
      const args = ['run', '--format', 'json', '-m', `fake/${model}`];
      return { tool, args, env, files, apiKey, model };
    }
  }
}

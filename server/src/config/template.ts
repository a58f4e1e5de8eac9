/**
 * A commented config.yaml made from the schema (for `orchestrator init` and *Create a Workflow*):
 * every setting with its description, its variable and its default or an example, commented out,
 * so that the file changes nothing until a line is uncommented, and stays in step with the schema.
 */
import { envName } from './envNames';
import { describe, fixedLeafPaths, schemaAt } from './nav';

/** What each setting's line shows: its default where it has a fixed one, else an example. */
const EXAMPLES: Record<string, { value: string; note: string }> = {
  concurrency: { value: '4', note: 'default: one per CPU core' },
  stuck_after: { value: '5m', note: 'the default' },
  'retention.keep': { value: '100', note: 'not set: no limit' },
  'retention.max_age': { value: '30d', note: 'not set: no limit' },
  'retention.max_size': { value: '2GB', note: 'not set: no limit' },
};

function wrap(text: string, prefix: string, width = 100): string[] {
  const lines: string[] = [];
  let line = prefix;
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > width && line.trim() !== prefix.trim()) {
      lines.push(line.trimEnd());
      line = prefix;
    }
    line += (line === prefix ? '' : ' ') + word;
  }
  if (line.trim() !== prefix.trim()) lines.push(line.trimEnd());
  return lines;
}

export function configTemplate(): string {
  const out = [
    '# Synapse Orchestrator settings. Every setting is shown at its default (or with an example),',
    '# commented out: remove the `# ` before a line to set it.',
    '# Precedence, lowest first: defaults, ~/.orchestrator/config.yaml, .orchestrator/config.yaml,',
    '# ORCHESTRATOR_* variables, command-line flags. `orchestrator config show --effective` prints',
    '# every value and where it came from; `orchestrator config set KEY VALUE` changes one.',
    '# Secrets (API keys, tokens) never go here: use `orchestrator secrets set NAME`.',
  ];
  let section = '';
  for (const p of fixedLeafPaths()) {
    const key = p.join('.');
    const ex = EXAMPLES[key] ?? { value: '', note: '' };
    const indent = p.length > 1 ? '  ' : '';
    const comment = p.length > 1 ? '#   ' : '# ';
    if (p.length > 1 && p[0] !== section) {
      section = p[0];
      out.push('', ...wrap(describe(schemaAt([section])!) ?? '', '# '), `# ${section}:`);
    } else if (p.length === 1) {
      section = '';
      out.push('');
    }
    out.push(...wrap(`${describe(schemaAt(p)!) ?? ''} (${envName(p)})`, `# ${indent}`));
    out.push(`${comment}${p[p.length - 1]}: ${ex.value}${ex.note ? `    # ${ex.note}` : ''}`);
  }
  out.push(
    '',
    ...wrap(describe(schemaAt(['providers'])!) ?? '', '# '),
    '# providers:',
    '#   local:',
    '#     type: openai                     # openai, anthropic, command, or a preset: claude-code, codex, gemini, opencode, aider',
    '#     base_url: http://localhost:11434/v1',
    '#     api_key_secret: LOCAL_KEY        # the secret holding the key (never the key itself)',
    '#     model: llama3.1',
    '',
    ...wrap(describe(schemaAt(['prices'])!) ?? '', '# '),
    '# prices:',
    '#   claude-sonnet-4-5: { input: 3, output: 15, cache_read: 0.3 }',
    '',
  );
  return out.join('\n');
}

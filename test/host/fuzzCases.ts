/**
 * The fuzz inputs of fuzz.test.ts: a tiny seeded PRNG, valid seed workflows, mutations and edge
 * cases. Deterministic: `makeCase(index)` rebuilds case `index` alone, e.g. to reproduce a
 * failure: `npx tsx -e "import('./test/host/fuzzCases.ts').then(m => console.log(JSON.stringify(m.makeCase(84).text)))"`.
 */

import { rng } from '../helpers/random';

export const SEED = 0x5eed1e55;

// ---- a seeded PRNG (mulberry32, test/helpers/random.ts) with helpers ---------------------------

export class Rng {
  private readonly gen: () => number;
  constructor(seed: number) {
    this.gen = rng(seed);
  }
  next(): number {
    return this.gen();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Each case has its own generator, so a case can be rebuilt alone from its index. */
function caseRng(index: number): Rng {
  let h = SEED ^ Math.imul(index + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return new Rng((h ^ (h >>> 16)) | 0);
}

// ---- seeds: valid workflows ---------------------------------------------------------------------

export const STEPS_FORM = `version: 1
name: review
description: Review a change
inputs:
  task:
    description: what to review
    required: true
  depth:
    type: number
    default: 2
env:
  LOG: \${{ inputs.depth }}
agents:
  reviewer:
    provider: claude-code
    model: sonnet
    instructions: Be thorough.
  fixer:
    provider: openai
defaults:
  timeout: 10m
  retry: { max_attempts: 2, backoff: 5s }
concurrency: 3
deadline: 1h30m
steps:
  - id: plan
    agent: reviewer
    prompt: Plan \${{ inputs.task }}
    outputs:
      summary: \${{ steps.plan.outputs.text }}
  - id: lint
    needs: plan
    run: npm run lint
    findings: lint.sarif
  - id: test
    needs: [plan]
    run: npm test -- --shard \${{ matrix.shard }}
    matrix:
      shard: [1, 2, 3]
    timeout: 5m
  - id: fix
    needs: [lint, test]
    if: \${{ steps.lint.findings > 0 }}
    agent: fixer
    prompt: Fix \${{ steps.plan.outputs.summary }}
  - id: approve
    needs: fix
    approval: Merge the fix?
`;

export const PIPELINE_FORM = `name: staged
agents:
  planner:
    provider: claude-code
  builder:
    provider: codex
    model: o4
pipeline:
  - stage: plan
    agent: planner
    prompt: Plan \${{ inputs.task }}
  - stage: implement
    parallel:
      - { id: backend, agent: builder, prompt: "Build the API" }
      - id: frontend
        agent: builder
        prompt: Build the UI after \${{ steps.plan.status }}
  - stage: audit
    needs: implement
    run: echo audit
    on_error: continue
inputs:
  task:
    default: everything
`;

export const EXPRESSIONS_FORM = `name: expressions
inputs:
  target: { type: string, enum: [dev, prod] }
  dry: { type: boolean, default: false }
steps:
  - id: build
    run: make \${{ inputs.target }} && echo "\${{ format('{0}-{1}', inputs.target, session.id) }}"
    env:
      TARGET: \${{ inputs.target }}
      FLAG: \${{ inputs.dry && 'yes' || 'no' }}
    outputs:
      artifact: \${{ toJSON(inputs) }}
  - id: scan
    uses: findings/sarif
    with:
      file: \${{ steps.build.outputs.artifact }}
    needs: build
  - id: deploy
    needs: [build, scan]
    if: \${{ always() && !contains(inputs.target, 'dev') && steps.scan.status == 'succeeded' }}
    run: ./deploy.sh "\${{ workflow.name }}" \${{ fromJSON(steps.build.outputs.artifact).x }}
    stuck_after: 30s
  - id: never
    if: false
    run: echo no
`;

const SEEDS = [STEPS_FORM, PIPELINE_FORM, EXPRESSIONS_FORM];

// ---- mutations ----------------------------------------------------------------------------------

const FRAGMENTS = [
  '${{', '}}', '${{ ', ' }}', '[', ']', '{', '}', ':', ': ', '\t', '&a ', '*a', '&b [*a, *a] ', '<<: *a',
  '- ', '# ', '"', "'", '|', '>-', '---\n', '...\n', '!!str ', '!!binary ', '!custom ', '? ', ',', '%YAML 1.2\n',
  '\0', '\r', '\r\n', '\u2028', '\ufeff', 'é', '🚀', 'e\u0301', '\u202e', '\ud800', '\udfff', '中文',
  'needs: ', 'needs: [', 'id: ', 'run: ', 'agent: ', 'steps.', 'inputs.', 'matrix.', 'env.', 'secrets.x',
  '${{ steps.plan.outputs.x }}', '${{ inputs.nope }}', '${{ matrix.os }}', "${{ contain('a') }}", '${{ ((( }}',
  '9'.repeat(400), '1e999', '-0', '0x', '.inf', '~', 'null', 'true', '@', '`', '%', '\\', '\\u0000',
];

const randomCodeUnit = (r: Rng): string => {
  switch (r.int(6)) {
    case 0:
      return String.fromCharCode(r.range(0, 31));
    case 1:
      return String.fromCharCode(r.range(0x80, 0x2fff));
    case 2:
      return String.fromCharCode(r.range(0xd800, 0xdfff)); // lone surrogates included
    default:
      return String.fromCharCode(r.range(32, 126));
  }
};

const deepFlow = (n: number): string => '['.repeat(n) + ']'.repeat(n);
const deepMap = (n: number): string => '{a: '.repeat(n) + '1' + '}'.repeat(n);
const deepBlock = (n: number, indent = 0): string => Array.from({ length: n }, (_, i) => `${' '.repeat(indent + i)}k${i}:`).join('\n');

type Mutation = (text: string, r: Rng) => string;

const at = (text: string, r: Rng): number => r.int(text.length + 1);
const splitLines = (t: string): string[] => t.split('\n');

const MUTATIONS: readonly (readonly [string, Mutation])[] = [
  ['delete chars', (t, r) => {
    const i = at(t, r);
    return t.slice(0, i) + t.slice(i + r.range(1, 12));
  }],
  ['insert fragment', (t, r) => {
    const i = at(t, r);
    return t.slice(0, i) + r.pick(FRAGMENTS) + t.slice(i);
  }],
  ['insert random chars', (t, r) => {
    const i = at(t, r);
    let s = '';
    for (let n = r.range(1, 8); n > 0; n--) s += randomCodeUnit(r);
    return t.slice(0, i) + s + t.slice(i);
  }],
  ['duplicate chars', (t, r) => {
    const i = at(t, r);
    const s = t.slice(i, i + r.range(1, 40));
    return t.slice(0, i) + s + s + t.slice(i + s.length);
  }],
  ['duplicate line', (t, r) => {
    const ls = splitLines(t);
    const i = r.int(ls.length);
    ls.splice(i, 0, ls[i]);
    return ls.join('\n');
  }],
  ['delete line', (t, r) => {
    const ls = splitLines(t);
    ls.splice(r.int(ls.length), r.range(1, 3));
    return ls.join('\n');
  }],
  ['swap lines', (t, r) => {
    const ls = splitLines(t);
    const i = r.int(ls.length);
    const j = r.int(ls.length);
    [ls[i], ls[j]] = [ls[j], ls[i]];
    return ls.join('\n');
  }],
  ['reindent line', (t, r) => {
    const ls = splitLines(t);
    const i = r.int(ls.length);
    ls[i] = r.chance(0.5) ? ' '.repeat(r.range(1, 5)) + ls[i] : ls[i].replace(/^ {1,3}/, '');
    return ls.join('\n');
  }],
  ['line from another seed', (t, r) => {
    const ls = splitLines(t);
    const other = splitLines(r.pick(SEEDS));
    ls.splice(r.int(ls.length), 0, r.pick(other));
    return ls.join('\n');
  }],
  ['very long line', (t, r) => {
    const ls = splitLines(t);
    ls.splice(r.int(ls.length), 0, `    run: echo ${r.pick(['x', '${{ a }} ', 'é', '[', ': '])}`.padEnd(r.range(5_000, 60_000), r.pick(['x', ' ', '$', '{'])));
    return ls.join('\n');
  }],
  ['deep nesting', (t, r) => {
    const ls = splitLines(t);
    const n = r.range(50, 3_000);
    const kind = r.int(3);
    ls.splice(r.int(ls.length), 0, kind === 0 ? `deep: ${deepFlow(n)}` : kind === 1 ? `deep: ${deepMap(n)}` : `deep:\n${deepBlock(Math.min(n, 400), 1)}`);
    return ls.join('\n');
  }],
  ['10,000-character key', (t, r) => {
    const ls = splitLines(t);
    const i = r.int(ls.length);
    const indent = /^\s*(-\s+)?/.exec(ls[i])![0].replace('-', ' ');
    ls.splice(i, 0, `${indent}${'k'.repeat(10_000)}: v`);
    return ls.join('\n');
  }],
  ['huge number', (t, r) => {
    const ls = splitLines(t);
    const i = r.int(ls.length);
    ls[i] = ls[i].replace(/:\s.*$/, `: ${r.pick(['9'.repeat(r.range(20, 2_000)), '1e999', '-1e999', '0.' + '0'.repeat(500) + '1', String(Number.MAX_SAFE_INTEGER + 2)])}`);
    return ls.join('\n');
  }],
  ['truncate', (t, r) => t.slice(0, at(t, r))],
  ['replace a word', (t, r) => {
    const words = [...t.matchAll(/[A-Za-z_][\w-]*/g)];
    if (!words.length) return t;
    const w = r.pick(words);
    return t.slice(0, w.index) + r.pick([...FRAGMENTS, 'plan', 'steps', 'needs', 'x', '']) + t.slice(w.index + w[0].length);
  }],
  ['anchor and alias', (t, r) => {
    const ls = splitLines(t);
    const i = r.int(ls.length);
    ls[i] = ls[i].replace(/:(\s|$)/, `: ${r.pick(['&a', '&s', '*a', '*s', '&a *a', '!!map'])}$1`);
    return ls.join('\n');
  }],
  ['CRLF / CR line ends', (t, r) => (r.chance(0.5) ? t.replace(/\n/g, '\r\n') : t.replace(/\n/g, '\r'))],
  ['tabs for indent', (t, r) => t.replace(/^( {2})+/gm, (m) => (r.chance(0.3) ? '\t'.repeat(m.length / 2) : m))],
];

function mutate(text: string, r: Rng, count: number): { text: string; applied: string[] } {
  const applied: string[] = [];
  let t = text;
  for (let k = 0; k < count; k++) {
    // The whole-text rewrites are rarer than the local edits.
    const [name, f] = r.chance(0.08) ? r.pick(MUTATIONS.slice(-2)) : r.pick(MUTATIONS.slice(0, -2));
    t = f(t, r);
    applied.push(name);
  }
  return { text: t, applied };
}

/** Hand-picked edge cases, cycled through. */
const EDGE_CASES: readonly (readonly [string, string])[] = [
  ['empty', ''],
  ['blank lines', '\n\n   \n\t\n'],
  ['NUL bytes', '\0'.repeat(64)],
  ['NUL in a workflow', STEPS_FORM.replace('plan', 'pl\0an')],
  ['only a comment', '# nothing here\n'],
  ['a scalar document', 'just text'],
  ['a list document', '- a\n- b\n'],
  ['huge numbers', `name: x\nconcurrency: 1${'0'.repeat(400)}\ndeadline: 1e999\nsteps:\n  - id: a\n    run: echo\n    timeout: ${'9'.repeat(300)}\n    retry: { max_attempts: 1e400, factor: -1e999 }\n`],
  ['10,000-character key', `${'k'.repeat(10_000)}: v\n${STEPS_FORM}`],
  ['10,000-character step id', STEPS_FORM.replace('id: lint', `id: ${'l'.repeat(10_000)}`)],
  ['very long run line', STEPS_FORM.replace('npm run lint', 'x'.repeat(200_000))],
  ['very long expression', STEPS_FORM.replace('npm run lint', `\${{ ${'a && '.repeat(4_000)}a }}`)],
  ['deep flow nesting', `name: x\nv: ${deepFlow(5_000)}\nsteps:\n  - id: a\n    run: echo\n`],
  ['deep map nesting', `name: x\nv: ${deepMap(3_000)}\nsteps:\n  - id: a\n    run: echo\n`],
  ['deep block nesting', `name: x\n${deepBlock(600)}\n`],
  ['deep expression nesting', STEPS_FORM.replace('npm run lint', `\${{ ${'('.repeat(2_000)}1${')'.repeat(2_000)} }}`)],
  ['benign anchors and merge keys', `name: x\ndefaults: &d { timeout: 5m }\nsteps:\n  - &s { id: a, run: echo }\n  - <<: *s\n    id: b\n    needs: a\n  - id: c\n    <<: *d\n    run: echo\nx: [*s, *d]\n`],
  ['alias to a missing anchor', `name: x\nsteps: *nope\n`],
  ['steps as an alias', `name: x\nall: &all\n  - id: a\n    run: echo\nsteps: *all\n`],
  ['BOM and RTL', `\ufeffname: \u202ereview\u202c\nsteps:\n  - id: a\n    run: echo 🚀 \${{ inputs.ü }}\n`],
  ['emoji everywhere', STEPS_FORM.replace(/plan/g, '🚀plan').replace(/run:/g, 'run: 👩‍👩‍👧‍👦')],
  ['line separators', STEPS_FORM.replace(/\n/g, '\u2028\n')],
  ['CR only line ends', STEPS_FORM.replace(/\n/g, '\r')],
  ['CRLF line ends', PIPELINE_FORM.replace(/\n/g, '\r\n')],
  ['several documents', `${STEPS_FORM}---\n${PIPELINE_FORM}...\n%YAML 1.2\n---\n`],
  ['tabs', STEPS_FORM.replace(/ {2}/g, '\t')],
  ['both steps and pipeline', `${STEPS_FORM}${PIPELINE_FORM.slice(PIPELINE_FORM.indexOf('pipeline:'))}`],
  ['unclosed expressions everywhere', STEPS_FORM.replace(/\}\}/g, '')],
  ['many steps in a chain', `name: chain\nsteps:\n${Array.from({ length: 300 }, (_, i) => `  - id: s${i}\n    needs: s${(i + 1) % 300}\n    run: echo \${{ steps.s${(i + 7) % 300}.outputs.x }}\n`).join('')}`],
  ['dash soup', '- - - -\n  - - -\n- : : :\n'],
  ['brace soup', '{[{[{[}]}]}]: ,,,: {{{}}} ${{ }} }}'],
  ['duplicate keys', 'name: a\nname: b\nsteps: []\nsteps: []\n'],
  ['steps empty and null', 'name: x\nsteps:\n  -\n  - \n  - null\n  - []\n  - {}\n'],
];

// ---- hostile shapes: large files that once kept the host busy (issue 10 §3) ---------------------

/**
 * Generators of files that are costly to validate, by a count `n` (steps, keys, anchors...). The
 * host fuzz opens each at a fixed size; the benchmark (test/bench/hostile.ts) scales them up to
 * 1 MB with {@link hostileOfSize}.
 */
export const HOSTILE_SHAPES: readonly { readonly name: string; readonly make: (n: number) => string }[] = [
  {
    name: 'anchors and aliases',
    make: (n) => `name: a\nenv:\n${Array.from({ length: n }, (_, i) => `  A${i}: &a${i} value ${i}\n`).join('')}steps:\n  - id: s\n    run: echo\n    env:\n${Array.from({ length: n }, (_, i) => `      X${i}: *a${i}\n`).join('')}`,
  },
  { name: 'needs cycle', make: (n) => `name: c\nsteps:\n${Array.from({ length: n }, (_, i) => `  - id: s${i}\n    needs: s${(i + 1) % n}\n    run: echo\n`).join('')}` },
  {
    name: 'needs chain, each step reading the far end',
    make: (n) => `name: c\nsteps:\n${Array.from({ length: n }, (_, i) => `  - id: s${i}\n${i < n - 1 ? `    needs: s${i + 1}\n` : ''}    run: echo \${{ steps.s${n - 1}.outputs.x }}\n`).join('')}`,
  },
  {
    name: 'needs chain, each step reading one far back',
    make: (n) => `name: c\nsteps:\n${Array.from({ length: n }, (_, i) => `  - id: s${i}\n${i ? `    needs: s${i - 1}\n` : ''}    run: echo${i >= n >> 1 ? ` \${{ steps.s${i - (n >> 1)}.outputs.x }}` : ''}\n`).join('')}`,
  },
  { name: 'one mapping of many keys, one repeated', make: (n) => `name: m\nenv:\n${Array.from({ length: n }, (_, i) => `  KEY_${i}: v\n`).join('')}  KEY_${n >> 1}: again\nsteps:\n  - id: s\n    run: echo\n` },
  {
    name: 'misspelt needs among many steps',
    make: (n) => `name: t\nsteps:\n${Array.from({ length: n }, (_, i) => `  - id: step_${i}\n${i ? `    needs: stpe_${i - 1}\n` : ''}    run: echo\n`).join('')}`,
  },
  {
    name: 'unknown agents among many agents',
    make: (n) => `name: g\nagents:\n${Array.from({ length: n }, (_, i) => `  agent_${i}: { provider: codex }\n`).join('')}steps:\n${Array.from({ length: n }, (_, i) => `  - id: s${i}\n    agent: agnet_${i}\n    prompt: hi\n`).join('')}`,
  },
  {
    name: 'aliases of aliases (expansion budget)',
    make: (n) => {
      const width = Math.max(2, Math.round(Math.sqrt(n)));
      const levels = Array.from({ length: width }, (_, i) => `  L${i + 1}: &l${i + 1} [${Array(width).fill(`*l${i}`).join(', ')}]\n`).join('');
      return `name: x\nenv:\n  L0: &l0 [${Array(width).fill('v').join(', ')}]\n${levels}steps:\n  - id: a\n    run: echo\n`;
    },
  },
  { name: 'deep flow nesting', make: (n) => `name: x\nenv:\n  V: ${'['.repeat(n)}${']'.repeat(n)}\nsteps:\n  - id: a\n    run: echo\n` },
  {
    name: 'expressions everywhere',
    make: (n) => `name: e\ninputs:\n  x: { default: 1 }\nsteps:\n${Array.from({ length: n }, (_, i) => `  - id: s${i}\n${i ? `    needs: s${i - 1}\n` : ''}    if: \${{ inputs.x == 1 && (steps.s${Math.max(0, i - 1)}.outputs.y || format('{0}', inputs.x)) }}\n    run: echo \${{ inputs.x }} \${{ toJSON(inputs) }} \${{ inputs.y }}\n`).join('')}`,
  },
];

/** The shape at about `bytes` characters (at least one unit). */
export function hostileOfSize(shape: (typeof HOSTILE_SHAPES)[number], bytes: number): string {
  const probe = 1_000;
  const per = shape.make(probe).length / probe;
  return shape.make(Math.max(2, Math.floor(bytes / per)));
}

// ---- the cases ----------------------------------------------------------------------------------

export interface Case {
  readonly index: number;
  readonly family: string;
  readonly text: string;
  /** open: a fresh document; change: an incremental didChange of one long-lived document. */
  readonly mode: 'open' | 'change';
  readonly languageId: string;
  /** Where to ask for completion and hover: [line, character] factors in [0, 1), or past the end. */
  readonly where: readonly [number, number];
}

function randomText(r: Rng): string {
  const n = r.range(0, 3_000);
  let s = '';
  if (r.chance(0.5)) {
    // Bytes as text (latin1).
    for (let i = 0; i < n; i++) s += String.fromCharCode(r.int(256));
  } else {
    // YAML-ish token soup.
    const toks = [...FRAGMENTS, '\n', '\n  ', '\n    ', '\n  - ', 'name', 'steps', 'pipeline', 'stage', 'parallel', 'a', 'b', ' '];
    while (s.length < n) s += r.pick(toks);
  }
  return s;
}

export function makeCase(index: number): Case {
  const r = caseRng(index);
  const slot = index % 10;
  let family: string;
  let text: string;
  if (slot === 0) {
    family = 'random text';
    text = randomText(r);
  } else if (slot === 1) {
    const [name, edge] = EDGE_CASES[Math.floor(index / 10) % EDGE_CASES.length];
    const m = r.chance(0.4) ? mutate(edge, r, 1) : { text: edge, applied: [] };
    family = `edge: ${name}${m.applied.length ? ` + ${m.applied.join(', ')}` : ''}`;
    text = m.text;
  } else {
    const seedIndex = r.int(SEEDS.length);
    const m = mutate(SEEDS[seedIndex], r, r.range(1, 6));
    family = `${['steps form', 'pipeline form', 'expressions'][seedIndex]}: ${m.applied.join(', ')}`;
    text = m.text;
  }
  return {
    index,
    family,
    text,
    mode: index % 4 === 3 ? 'change' : 'open',
    languageId: r.chance(0.3) ? 'orchestrator-workflow' : 'yaml',
    where: [r.next(), r.chance(0.1) ? 1.5 : r.next()],
  };
}

const NEW_STEP = '  - id: added\n    needs: [plan]\n    run: echo ${{ steps.plan.outputs.summary }}\n';

/**
 * A typing session: `count` small edits applied one after another to one document (starting
 * again from a seed every 20 edits), as a person editing the file would make them.
 */
export function typingSession(count: number): { edit: string; text: string }[] {
  const r = new Rng(SEED ^ 0x7e57ab1e);
  const local = new Set(['delete chars', 'insert fragment', 'insert random chars', 'duplicate chars', 'duplicate line', 'delete line', 'swap lines', 'reindent line', 'line from another seed', 'replace a word', 'anchor and alias']);
  const edits: (readonly [string, Mutation])[] = [
    ...MUTATIONS.filter(([n]) => local.has(n)),
    ['type part of a new step', (t, rr) => {
      const ls = splitLines(t);
      const steps = ls.findIndex((l) => /^(steps|pipeline):/.test(l));
      const i = steps === -1 ? rr.int(ls.length + 1) : rr.range(steps + 1, ls.length);
      ls.splice(i, 0, NEW_STEP.slice(0, rr.range(1, NEW_STEP.length - 1)));
      return ls.join('\n');
    }],
  ];
  const out: { edit: string; text: string }[] = [];
  let text = SEEDS[0];
  for (let i = 0; i < count; i++) {
    if (i > 0 && i % 20 === 0) text = SEEDS[(i / 20) % SEEDS.length];
    const [name, f] = r.pick(edits);
    text = f(text, r);
    out.push({ edit: name, text });
  }
  return out;
}

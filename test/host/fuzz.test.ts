/**
 * Robustness of the REAL built host (server/out/server.js): a few hundred random and mutated
 * documents, deterministic from a fixed seed. For each: every diagnostic has a valid range and a
 * spec code, and completion, hover and document symbols answer (no error response, no internal
 * error logged). Build first: `npm run build`.
 *
 * Reproduce a failing case: the message names the case index; `makeCase(index)` rebuilds its
 * input alone (each case has its own PRNG derived from SEED and the index).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CompletionItem, Diagnostic, DocumentSymbol, Position, Range, TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol';
import type { PlanResult } from '../../server/src/protocol';
import { HOSTILE_SHAPES, hostileOfSize, makeCase, SEED, STEPS_FORM, typingSession, type Case } from './fuzzCases';
import { freshUri, LspClient, lspLines, messageOf, SPEC_CODES, summarize } from './lspClient';

const CASES = 360;
/** Per await in the fuzz. A normal case answers in milliseconds; this only catches hangs (also on a busy machine). */
const FUZZ_TIMEOUT_MS = 30_000;
/** After this many hung hosts (each killed and restarted), the remaining cases are not run. */
const MAX_RESTARTS = 2;

// ---- checks -------------------------------------------------------------------------------------

function rangeProblem(rg: Range | undefined, lines: readonly string[], what: string): string | undefined {
  if (!rg || !rg.start || !rg.end) return `${what}: no range`;
  for (const [name, p] of [['start', rg.start], ['end', rg.end]] as const) {
    if (!Number.isInteger(p.line) || !Number.isInteger(p.character) || p.line < 0 || p.character < 0) return `${what}: bad ${name} ${JSON.stringify(p)}`;
    if (p.line >= lines.length) return `${what}: ${name} line ${p.line} is past the last line (${lines.length} lines)`;
    if (p.character > lines[p.line].length) return `${what}: ${name} ${p.line}:${p.character} is past the end of its line (${lines[p.line].length} characters)`;
  }
  if (rg.start.line > rg.end.line || (rg.start.line === rg.end.line && rg.start.character > rg.end.character)) return `${what}: start after end ${JSON.stringify(rg)}`;
  return undefined;
}

const contains = (outer: Range, inner: Range): boolean => {
  const le = (a: Position, b: Position) => a.line < b.line || (a.line === b.line && a.character <= b.character);
  return le(outer.start, inner.start) && le(inner.end, outer.end);
};

function symbolProblems(syms: DocumentSymbol[], lines: readonly string[], out: string[], depth = 0): void {
  for (const s of syms) {
    const what = `symbol '${String(s.name).slice(0, 40)}'`;
    if (typeof s.name !== 'string' || !s.name) out.push(`${what}: empty name (VS Code rejects it)`);
    const p = rangeProblem(s.range, lines, `${what} range`) ?? rangeProblem(s.selectionRange, lines, `${what} selectionRange`);
    if (p) out.push(p);
    else if (!contains(s.range, s.selectionRange)) out.push(`${what}: selectionRange ${JSON.stringify(s.selectionRange)} is not inside range ${JSON.stringify(s.range)} (VS Code rejects it)`);
    if (s.children && depth < 50) symbolProblems(s.children, lines, out, depth + 1);
  }
}

function show(text: string, max = 300): string {
  return `${JSON.stringify(text.length > max ? text.slice(0, max) : text)}${text.length > max ? ` … (${text.length} chars)` : ''}`;
}

/** The smallest single edit from `a` to `b` that does not split a CRLF or a surrogate pair. */
function minimalEdit(a: string, b: string): { start: number; endA: number; text: string } {
  let p = 0;
  const max = Math.min(a.length, b.length);
  while (p < max && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  let s = 0;
  while (s < max - p && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  const splits = (t: string, i: number) =>
    i > 0 && i < t.length && ((t[i - 1] === '\r' && t[i] === '\n') || (/[\ud800-\udbff]/.test(t[i - 1]) && /[\udc00-\udfff]/.test(t[i])));
  while (p > 0 && (splits(a, p) || splits(b, p))) p--;
  while (s > 0 && (splits(a, a.length - s) || splits(b, b.length - s))) s--;
  return { start: p, endA: a.length - s, text: b.slice(p, b.length - s) };
}

/** Failures grouped by kind (most share a root cause), with the first examples of each. */
function groupFailures(failures: readonly string[]): string {
  const kindOf = (f: string): string => {
    if (/host hung or died/.test(f)) return 'the host hung (no answer) or died';
    if (/differ from a fresh didOpen/.test(f)) return 'incremental edit and fresh open disagree';
    if (/past the end of its line|past the last line/.test(f)) return 'a range outside the document as LSP splits it into lines';
    const internal = /internal error[^:]*: ([^\n]*?)(\n|$)/.exec(f);
    if (internal) return `internal error logged by the host: ${internal[1].replace(/file:\S+/g, '<uri>').slice(0, 160)}`;
    if (/selectionRange/.test(f)) return 'a document symbol whose selectionRange is not inside its range';
    const first = /\]: ([^;\n]*)/.exec(f)?.[1] ?? f;
    return first.replace(/\d+/g, 'N').replace(/'[^']*'/g, "'…'").slice(0, 120);
  };
  const groups = new Map<string, string[]>();
  for (const f of failures) {
    const k = kindOf(f);
    groups.set(k, [...(groups.get(k) ?? []), f]);
  }
  const out: string[] = [];
  for (const [k, fs_] of groups) {
    out.push(`== ${fs_.length} case(s): ${k}`);
    for (const f of fs_.slice(0, 2)) out.push(`  ${f.slice(0, 1_500).replace(/\n/g, '\n  ')}`);
    if (fs_.length > 2) out.push(`  … cases ${fs_.slice(2).map((f) => /^case #(\d+)/.exec(f)?.[1] ?? '?').join(', ')}`);
  }
  return out.join('\n');
}

// ---- the test -----------------------------------------------------------------------------------

describe('host fuzz (random and mutated documents)', () => {
  let client: LspClient;
  let firstHost: LspClient;
  let restarts = 0;
  const changeUri = freshUri('fuzz-change');
  let mirror: TextDocument;

  async function openChangeDoc(): Promise<void> {
    mirror = TextDocument.create(changeUri, 'yaml', 1, STEPS_FORM);
    await client.openAndWait(changeUri, STEPS_FORM, 1);
  }

  /** A short debounce (if the host reads it) keeps the didChange cases fast; the default is 200 ms. */
  const HOST_ENV = { ORCHESTRATOR_DEBOUNCE_MS: '5' };

  before(async () => {
    client = firstHost = await LspClient.start({ env: HOST_ENV });
    await openChangeDoc();
  });

  after(async () => {
    await client?.stop();
  });

  /**
   * Differential check: the publish after an incremental edit (parsed with the chunks cached from
   * the earlier texts) must equal a fresh open of the same text. Returns what differs.
   */
  async function differsFromFresh(got: Diagnostic[], text: string, stem: string): Promise<string | undefined> {
    const fresh = freshUri(stem);
    await client.open(fresh, text, 1);
    const ref = await client.waitForDiagnostics(fresh, { version: 1, timeoutMs: FUZZ_TIMEOUT_MS });
    await client.close(fresh);
    // Except: when the YAML library overflows its stack on deep nesting, it reports that as a
    // syntax error wherever it happened to be, which depends on the caller's stack depth.
    const overflow = [...got, ...ref.diagnostics].some((d) => /Maximum call stack/.test(messageOf(d)));
    const key = (ds: Diagnostic[]) => ds.filter((d) => !overflow || d.code !== 'yaml-syntax').map((d) => `${summarize(d)} ${messageOf(d).slice(0, 100)}`);
    const a = key(got);
    const b = key(ref.diagnostics);
    if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
    const missing = b.filter((x) => !a.includes(x));
    const extra = a.filter((x) => !b.includes(x));
    return `after didChange the diagnostics differ from a fresh didOpen of the same text: missing ${JSON.stringify(missing.slice(0, 3))}, extra ${JSON.stringify(extra.slice(0, 3))}`;
  }

  /** Sends `text` as one incremental edit of the change document; returns the new version. */
  async function changeTo(text: string): Promise<number> {
    const version = mirror.version + 1;
    const e = minimalEdit(mirror.getText(), text);
    let changes: TextDocumentContentChangeEvent[] = [{ range: { start: mirror.positionAt(e.start), end: mirror.positionAt(e.endA) }, text: e.text }];
    const next = TextDocument.update(TextDocument.create(changeUri, 'yaml', mirror.version, mirror.getText()), changes, version);
    if (next.getText() !== text) changes = [{ text }]; // cannot express it as one range edit: send the whole text
    mirror = TextDocument.update(mirror, changes, version);
    await client.change(changeUri, version, changes);
    return version;
  }

  /** Runs one case; returns what is wrong (empty: fine). Throws only on a hang or a dead host. */
  async function runCase(c: Case): Promise<string[]> {
    const problems: string[] = [];
    const lines = lspLines(c.text);
    const errorsBefore = client.errorLogs().length;
    let uri: string;
    let version: number;
    if (c.mode === 'open') {
      uri = freshUri(`fuzz-${c.index}`);
      version = 1;
      await client.open(uri, c.text, version, c.languageId);
    } else {
      uri = changeUri;
      version = await changeTo(c.text);
    }
    const pub = await client.waitForDiagnostics(uri, { version, timeoutMs: FUZZ_TIMEOUT_MS });
    for (const d of pub.diagnostics) {
      const p = rangeProblem(d.range, lines, `diagnostic ${summarize(d)} (${messageOf(d).slice(0, 120)})`);
      if (p) problems.push(p);
      if (!SPEC_CODES.includes(String(d.code))) problems.push(`diagnostic code ${JSON.stringify(d.code)} is not in the spec's list`);
      if (d.source !== 'orchestrator') problems.push(`diagnostic source ${JSON.stringify(d.source)}`);
      if (d.severity !== 1 && d.severity !== 2) problems.push(`diagnostic severity ${String(d.severity)}`);
      if (!messageOf(d)) problems.push(`diagnostic ${summarize(d)} without a message`);
    }

    if (c.mode === 'change') {
      const diff = await differsFromFresh(pub.diagnostics, c.text, `fuzz-${c.index}-fresh`);
      if (diff) problems.push(diff);
    }

    const line = Math.floor(c.where[0] * lines.length);
    const inside = c.where[1] < 1;
    const position: Position = { line, character: inside ? Math.floor(c.where[1] * (lines[line].length + 1)) : lines[line].length + 5 };
    const ask = async <T>(what: string, f: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await f();
      } catch (e) {
        if (/timed out/.test(String(e))) throw e;
        problems.push(`${what} at ${position.line}:${position.character} answered with an error: ${String(e)}`);
        return undefined;
      }
    };
    const items = await ask('completion', () =>
      client.request<CompletionItem[] | { items: CompletionItem[] } | null>('textDocument/completion', { textDocument: { uri }, position }, FUZZ_TIMEOUT_MS),
    );
    const list = items ? (Array.isArray(items) ? items : items.items) : [];
    for (const it of list.slice(0, 200)) {
      if (typeof it.label !== 'string') problems.push(`completion item without a label: ${JSON.stringify(it).slice(0, 200)}`);
      if (inside && it.textEdit && 'range' in it.textEdit) {
        const p = rangeProblem(it.textEdit.range, lines, `completion '${it.label}' textEdit`);
        if (p) problems.push(p);
        else if (!contains({ start: it.textEdit.range.start, end: position }, it.textEdit.range)) problems.push(`completion '${it.label}' textEdit range ${JSON.stringify(it.textEdit.range)} does not end at the cursor ${JSON.stringify(position)}`);
      }
    }
    const h = await ask('hover', () => client.request<{ contents: unknown; range?: Range } | null>('textDocument/hover', { textDocument: { uri }, position }, FUZZ_TIMEOUT_MS));
    if (h && h.range && inside) {
      const p = rangeProblem(h.range, lines, 'hover range');
      if (p) problems.push(p);
    }
    const syms = await ask('documentSymbol', () => client.request<DocumentSymbol[] | null>('textDocument/documentSymbol', { textDocument: { uri } }, FUZZ_TIMEOUT_MS));
    if (syms) symbolProblems(syms, lines, problems);
    await ask('codeLens', () => client.request('textDocument/codeLens', { textDocument: { uri } }, FUZZ_TIMEOUT_MS));

    const newErrors = client.errorLogs().slice(errorsBefore);
    for (const e of newErrors) problems.push(`the host logged an internal error: ${e.slice(0, 400)}`);
    if (c.mode === 'open') await client.close(uri);
    return problems;
  }

  it(`${CASES} random and mutated documents (seed 0x${SEED.toString(16)}): valid diagnostics, every feature answers`, async () => {
    const failures: string[] = [];
    let run = 0;
    for (let i = 0; i < CASES; i++) {
      const c = makeCase(i);
      let problems: string[];
      try {
        problems = await runCase(c);
      } catch (e) {
        problems = [`host hung or died: ${String(e).slice(0, 400)} (host alive: ${client.alive}; stderr: ${client.stderr.slice(-300)})`];
        // Go on with a new host, so one hang does not hide the other cases.
        await client.kill();
        if (++restarts > MAX_RESTARTS) {
          failures.push(`case #${i} [${c.family}; ${c.mode}]: ${problems.join('; ')}\n    input: ${show(c.text)}`);
          failures.push(`stopped after ${restarts} hung hosts: cases #${i + 1}..#${CASES - 1} not run`);
          break;
        }
        client = await LspClient.start({ env: HOST_ENV });
        await openChangeDoc();
      }
      run++;
      if (problems.length) failures.push(`case #${i} [${c.family}; ${c.mode}]: ${problems.slice(0, 5).join('; ')}\n    input: ${show(c.text)}`);
    }
    assert.ok(run >= Math.min(CASES, 300) || failures.length > 0, `ran ${run} cases`);
    if (failures.length && process.env.ORCH_FUZZ_DUMP) fs.writeFileSync(process.env.ORCH_FUZZ_DUMP, failures.join('\n\n'));
    assert.equal(failures.length, 0, `${failures.length} of ${CASES} cases failed (seed 0x${SEED.toString(16)}; rebuild one with makeCase(index); set ORCH_FUZZ_DUMP=<file> for all of them).\n${groupFailures(failures)}`);
  });

  it('a typing session of 120 small edits to one document: each publish equals a fresh open of the same text', async () => {
    const failures: string[] = [];
    for (const [i, step] of typingSession(120).entries()) {
      try {
        const version = await changeTo(step.text);
        const pub = await client.waitForDiagnostics(changeUri, { version, timeoutMs: FUZZ_TIMEOUT_MS });
        const lines = lspLines(step.text);
        const problems = pub.diagnostics.map((d) => rangeProblem(d.range, lines, `diagnostic ${summarize(d)}`)).filter((x): x is string => !!x);
        const diff = await differsFromFresh(pub.diagnostics, step.text, `typing-${i}-fresh`);
        if (diff) problems.push(diff);
        if (problems.length) failures.push(`edit #${i} [${step.edit}]: ${problems.slice(0, 3).join('; ')}\n    text: ${show(step.text, 600)}`);
      } catch (e) {
        failures.push(`edit #${i} [${step.edit}]: host hung or died: ${String(e).slice(0, 300)}\n    text: ${show(step.text, 600)}`);
        break;
      }
    }
    assert.equal(failures.length, 0, `${failures.length} of 120 edits failed (rebuild them with typingSession(120)):\n${groupFailures(failures)}`);
  });

  it('afterwards the same host process is alive and answers normal requests correctly', async () => {
    assert.equal(restarts, 0, `the host had to be restarted ${restarts} time(s) during the fuzz`);
    assert.ok(client === firstHost && client.alive, 'the first host is still running');
    assert.ok(!/internal error|unhandled rejection/.test(client.stderr), `stderr: ${client.stderr.slice(-1000)}`);
    const uri = freshUri('after-fuzz');
    const pub = await client.openAndWait(uri, STEPS_FORM, 1);
    assert.deepEqual(pub.diagnostics.map(summarize), [], 'the valid seed has no problems');
    const lines = STEPS_FORM.split('\n');
    const line = lines.findIndex((l) => l.includes('prompt: Plan ${{ inputs.task }}'));
    const items = await client.completion(uri, { line, character: lines[line].indexOf('inputs.') + 'inputs.'.length });
    assert.deepEqual(items.map((i) => i.label).sort(), ['depth', 'task']);
    const plan = await client.request<PlanResult>('orchestrator/plan', { uri });
    assert.equal(plan.ok, true);
    if (plan.ok) assert.deepEqual(plan.levels, [['plan'], ['lint', 'test'], ['fix'], ['approve']]);
    await client.close(uri);
  });
});

describe('host fuzz: pathological inputs (answered fast, no internal error)', () => {
  /**
   * Small documents the YAML library itself parses in milliseconds must not stall the host. A hang
   * guard (the 4,000-step chain takes seconds on an idle machine, more on a busy one); how fast
   * each shape is answered is measured by the benchmark (npm run bench), not asserted here.
   */
  const SLOW_TIMEOUT_MS = 30_000;
  const laughs = [
    'name: laughs',
    'l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
    ...Array.from({ length: 8 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(9).fill(`*l${i}`).join(', ')}]`),
    'steps:',
    '  - id: a',
    '    run: echo',
    '',
  ].join('\n');
  const cases: readonly (readonly [string, string])[] = [
    ['a self-referencing alias (2 lines)', 'name: x\na: &a [*a, *a]\nsteps:\n  - id: s\n    run: echo\n'],
    ['a billion laughs (9 levels of 9 aliases)', laughs],
    ['nested flow mappings as keys (40 × "{")', `name: x\nsteps:\n  - id: s\n    run: ${'{'.repeat(40)}\n`],
    [
      'a valid chain of 4,000 steps, each needing the next one listed',
      `name: chain\nsteps:\n${Array.from({ length: 4_000 }, (_, i) => `  - id: s${i}\n${i < 3_999 ? `    needs: s${i + 1}\n` : ''}    run: echo\n`).join('')}`,
    ],
  ];
  for (const [name, text] of cases) {
    it(`${name}: diagnostics within ${SLOW_TIMEOUT_MS / 1000} s, no internal error, the host keeps answering`, async () => {
      const client = await LspClient.start();
      let hung = false;
      const guard = <T>(p: Promise<T>): Promise<T> =>
        p.catch((e: unknown) => {
          hung = true;
          throw new Error(`the host did not answer within ${SLOW_TIMEOUT_MS} ms for ${show(text, 200)}: ${String(e)}`);
        });
      try {
        const uri = freshUri('slow');
        await client.open(uri, text, 1);
        const pub = await guard(client.waitForDiagnostics(uri, { version: 1, timeoutMs: SLOW_TIMEOUT_MS }));
        for (const d of pub.diagnostics) assert.ok(SPEC_CODES.includes(String(d.code)));
        const syms = await guard(client.request('textDocument/documentSymbol', { textDocument: { uri } }, SLOW_TIMEOUT_MS));
        assert.ok(Array.isArray(syms));
        assert.deepEqual(client.errorLogs(), [], 'no internal error logged');
      } finally {
        if (hung) await client.kill();
        else await client.stop();
      }
    });
  }
});

describe('host fuzz: hostile shapes (bounded work; the host answers another document meanwhile)', () => {
  /** Only a hang detector: each of these takes about a second (test/bench/hostile.ts measures them). */
  const HOSTILE_TIMEOUT_MS = 60_000;
  let client: LspClient;
  before(async () => {
    client = await LspClient.start();
  });
  after(async () => {
    await client?.stop();
  });

  const cases: [string, string][] = [
    ['20,000 anchors and 20,000 aliases (the issue\'s 850 KB file)', HOSTILE_SHAPES[0].make(20_000)],
    ['a 10,000-step needs cycle (the issue\'s)', HOSTILE_SHAPES[1].make(10_000)],
    ...HOSTILE_SHAPES.map((s): [string, string] => [`${s.name} (200 KB)`, hostileOfSize(s, 200_000)]),
  ];
  for (const [name, text] of cases) {
    it(`${name}: spec diagnostics with short messages, no internal error, other requests answered`, async () => {
      const uri = freshUri('hostile');
      const other = freshUri('hostile-other');
      const errorsBefore = client.errorLogs().length;
      await client.open(uri, text, 1);
      const otherPub = await client.openAndWait(other, STEPS_FORM, 1);
      assert.deepEqual(otherPub.diagnostics.map(summarize), []);
      assert.ok((await client.completion(other, { line: 0, character: 0 })).length > 0, 'completion on the other document');
      const pub = await client.waitForDiagnostics(uri, { version: 1, timeoutMs: HOSTILE_TIMEOUT_MS });
      for (const d of pub.diagnostics) {
        assert.ok(SPEC_CODES.includes(String(d.code)), `code ${String(d.code)}`);
        assert.ok(messageOf(d).length <= 1_000, `a ${messageOf(d).length}-character message: ${messageOf(d).slice(0, 200)}`);
      }
      const syms = await client.request('textDocument/documentSymbol', { textDocument: { uri } }, HOSTILE_TIMEOUT_MS);
      assert.ok(Array.isArray(syms));
      assert.deepEqual(client.errorLogs().slice(errorsBefore), [], 'no internal error logged');
      await client.close(uri);
      await client.close(other);
    });
  }
});

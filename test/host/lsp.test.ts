/**
 * The host as an editor sees it: the REAL built server (server/out/server.js) over stdio, driven
 * with LSP messages. Build first: `npm run build`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CompletionItem, Diagnostic, DocumentSymbol, Position, TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol';
import type { PlanResult, ValidateResult } from '../../server/src/protocol';
import { freshUri, hoverText, LspClient, messageOf, positionOf, range, SPEC_CODES, summarize } from './lspClient';

// ---- documents ------------------------------------------------------------------------------

/**
 * A workflow with one problem of (almost) every code. Line numbers (0-based) on the right are
 * what the expected ranges below are computed from.
 */
const MANY_ERRORS = [
  'name: review', //                                          0
  'inputs:', //                                               1
  '  task:', //                                               2
  '    description: what to review', //                       3
  'agents:', //                                               4
  '  reviewer:', //                                           5
  '    provider: claude-code', //                             6
  'steps:', //                                                7
  '  - id: plan', //                                          8
  '    run: echo "${{ inputs.tsk }}"', //                     9  inputs.tsk at 19..29
  '    nedds: [x]', //                                        10 nedds at 4..9
  '  - id: build', //                                         11
  '    needs: [plan, plna]', //                               12 plna at 18..22
  '    agent: reviewr', //                                    13 reviewr at 11..18
  '    prompt: Review ${{ steps.test.outputs.text }}', //     14 steps.test.outputs.text at 23..46
  '    timeout: 5x', //                                       15 5x at 13..15
  '  - id: test', //                                          16
  '    needs: [build, lint]', //                              17 lint at 19..23
  "    run: echo ${{ contain('a', 'b') }}", //                18 contain at 18..25
  '    uses: findings/merge', //                              19 uses at 4..8
  '  - id: lint', //                                          20
  '    needs: test', //                                       21 test at 11..15
  '    run: echo lint', //                                    22
  '  - id: plan', //                                          23 plan at 8..12
  '    approval: ok?', //                                     24
  '  - id: off', //                                           25
  '    if: false', //                                         26
  '    run: echo never', //                                   27
  '  - id: after_off', //                                     28
  '    needs: off', //                                        29 off at 11..14
  '    run: echo after', //                                   30
  '',
].join('\n');

/** Expected diagnostics of MANY_ERRORS, in the host's order (by position). Computed by hand. */
const MANY_ERRORS_EXPECTED = [
  'unknown-input@9:19-9:29',
  'schema@10:4-10:9',
  'unknown-need@12:18-12:22',
  'unknown-agent@13:11-13:18',
  'not-upstream@14:23-14:46',
  'bad-duration@15:13-15:15',
  'dependency-cycle@17:19-17:23',
  'bad-expression@18:18-18:25',
  'step-kind@19:4-19:8',
  'dependency-cycle@21:11-21:15',
  'duplicate-id@23:8-23:12',
  'unreachable@29:11-29:14',
];

/** A valid workflow in the steps form, for the editor features. */
const DEMO = [
  'name: demo', //                                            0
  'description: editor features', //                          1
  'inputs:', //                                               2
  '  task:', //                                               3
  '    description: the task', //                             4
  '  depth:', //                                              5
  '    default: 2', //                                        6
  'agents:', //                                               7
  '  planner:', //                                            8
  '    provider: claude-code', //                             9
  '    model: sonnet', //                                     10
  '  builder:', //                                            11
  '    provider: openai', //                                  12
  'concurrency: 2', //                                        13
  'steps:', //                                                14
  '  - id: plan', //                                          15
  '    agent: planner', //                                    16
  '    prompt: Plan ${{ inputs.task }}', //                   17
  '    outputs:', //                                          18
  '      summary: ${{ steps.plan.outputs.text }}', //         19
  '  - id: lint', //                                          20
  '    needs: plan', //                                       21
  '    run: echo lint', //                                    22
  '  - id: unit', //                                          23
  '    needs: [plan]', //                                     24
  '    run: echo ${{ steps.plan.outputs.summary }}', //       25
  '    timeout: 10m', //                                      26
  '  - id: report', //                                        27
  '    needs: [lint, unit]', //                               28
  '    agent: builder', //                                    29
  '    prompt: Report on ${{ steps.unit.status }}', //        30
  '',
].join('\n');

const PIPELINE = [
  'name: staged', //                                          0
  'agents:', //                                               1
  '  planner:', //                                            2
  '    provider: claude-code', //                             3
  '  builder:', //                                            4
  '    provider: codex', //                                   5
  'pipeline:', //                                             6
  '  - stage: plan', //                                       7
  '    agent: planner', //                                    8
  '    prompt: Plan it', //                                   9
  '  - stage: implement', //                                  10
  '    parallel:', //                                         11
  '      - { id: backend, agent: builder, prompt: "b" }', //  12
  '      - { id: frontend, agent: builder, prompt: "f" }', // 13
  '  - stage: audit', //                                      14
  '    run: echo ${{ steps.backend.status }}', //             15
  '',
].join('\n');

// ---- helpers ---------------------------------------------------------------------------------

const CURSOR = '‸';

/** Text with a cursor marker → the text without it and the marker's position. */
function withCursor(marked: string): { text: string; position: Position } {
  const at = marked.indexOf(CURSOR);
  assert.ok(at !== -1 && marked.indexOf(CURSOR, at + 1) === -1, 'exactly one cursor marker');
  const text = marked.slice(0, at) + marked.slice(at + 1);
  const before = text.slice(0, at);
  const line = before.split('\n').length - 1;
  return { text, position: { line, character: at - (before.lastIndexOf('\n') + 1) } };
}

/** DEMO with `line` (0-based) replaced by `replacement` (may hold several lines and the cursor). */
function demoWith(line: number, replacement: string, insert = false): string {
  const lines = DEMO.split('\n');
  lines.splice(line, insert ? 0 : 1, replacement);
  return lines.join('\n');
}

const labels = (items: CompletionItem[]): string[] => items.map((i) => i.label);

function assertDiagnosticShape(d: Diagnostic): void {
  assert.equal(d.source, 'orchestrator', `source of ${summarize(d)}`);
  assert.ok(SPEC_CODES.includes(String(d.code)), `code ${String(d.code)} is in the spec's list`);
  assert.equal(typeof d.message, 'string');
  assert.ok(messageOf(d).length > 0, `a message for ${summarize(d)}`);
  const warning = d.code === 'missing-file' || d.code === 'unreachable';
  assert.equal(d.severity, warning ? 2 : 1, `severity of ${summarize(d)}`);
}

// ---- tests ------------------------------------------------------------------------------------

describe('orchestrator host over LSP (stdio)', () => {
  let client: LspClient;
  let tmp: string;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-host-'));
    // The quick-changes test relies on the host's default debounce (200 ms): pin it, in case the
    // environment of the test run sets ORCHESTRATOR_DEBOUNCE_MS.
    client = await LspClient.start({ initializationOptions: { logLevel: 'info', trusted: true }, env: { ORCHESTRATOR_DEBOUNCE_MS: '200' } });
  });

  after(async () => {
    await client?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('initialize announces completion, hover, document symbols, code lenses and incremental sync', () => {
    const caps = client.initializeResult.capabilities;
    // 2 = TextDocumentSyncKind.Incremental, as a number or inside options.
    const sync = typeof caps.textDocumentSync === 'number' ? caps.textDocumentSync : caps.textDocumentSync?.change;
    assert.equal(sync, 2);
    assert.ok(caps.completionProvider, 'completionProvider');
    assert.ok(caps.completionProvider.triggerCharacters?.includes('.'), "completion triggers on '.'");
    assert.ok(caps.hoverProvider, 'hoverProvider');
    assert.ok(caps.documentSymbolProvider, 'documentSymbolProvider');
    assert.ok(caps.codeLensProvider, 'codeLensProvider');
  });

  describe('diagnostics', () => {
    it('didOpen publishes every problem once, with the spec code, source and exact range', async () => {
      const uri = freshUri('many');
      const pub = await client.openAndWait(uri, MANY_ERRORS, 1);
      assert.equal(pub.version, 1);
      assert.deepEqual(pub.diagnostics.map(summarize), MANY_ERRORS_EXPECTED);
      for (const d of pub.diagnostics) assertDiagnosticShape(d);
      const byCode = (c: string) => pub.diagnostics.find((d) => d.code === c)!;
      assert.match(messageOf(byCode('schema')), /nedds.*needs/);
      assert.match(messageOf(byCode('unknown-need')), /plna.*Did you mean 'plan'/);
      assert.match(messageOf(byCode('unknown-agent')), /reviewr.*reviewer/);
      assert.match(messageOf(byCode('dependency-cycle')), /test → lint → test/);
      // Exactly one publish for the open.
      assert.equal(client.publishesFor(uri).length, 1);
      await client.close(uri);
    });

    it('reports yaml-syntax at the offending key', async () => {
      const uri = freshUri('syntax');
      const text = ['name: dup', 'steps:', '  - id: a', '    run: echo a', 'name: again', ''].join('\n');
      const pub = await client.openAndWait(uri, text, 1);
      const syntax = pub.diagnostics.filter((d) => d.code === 'yaml-syntax');
      assert.deepEqual(syntax.map(summarize), ['yaml-syntax@4:0-4:4'], JSON.stringify(pub.diagnostics));
      for (const d of pub.diagnostics) assertDiagnosticShape(d);
      await client.close(uri);
    });

    it('reports yaml-syntax at a duplicate key also when the first one has no value', async () => {
      const uri = freshUri('syntax-dup');
      const text = ['name: dup', 'inputs:', 'inputs:', '  task: {}', 'steps:', '  - id: a', '    run: echo a', ''].join('\n');
      const pub = await client.openAndWait(uri, text, 1);
      const syntax = pub.diagnostics.filter((d) => d.code === 'yaml-syntax');
      assert.deepEqual(syntax.map(summarize), ['yaml-syntax@2:0-2:6'], JSON.stringify(syntax));
      assert.match(messageOf(syntax[0]), /duplicate key 'inputs'/);
      await client.close(uri);
    });

    it('a lone CR (a line break for LSP) moves the following ranges down a line', async () => {
      const uri = freshUri('lone-cr');
      // LSP counts '\r', '\n' and '\r\n' as line ends, so the '\r' inside the quoted value ends line 3.
      const text = ['name: cr', 'steps:', '  - id: a', '    run: "echo one\r      two"', '    timeout: 5x', ''].join('\n');
      const pub = await client.openAndWait(uri, text, 1);
      assert.deepEqual(pub.diagnostics.map(summarize), ['bad-duration@5:13-5:15']);
      await client.close(uri);
    });

    it('reports missing-file for agent instructions that do not exist next to the workflow', async () => {
      fs.mkdirSync(path.join(tmp, 'prompts'), { recursive: true });
      fs.writeFileSync(path.join(tmp, 'prompts', 'there.md'), 'You review.\n');
      const file = path.join(tmp, 'files.workflow.yaml');
      const text = [
        'name: files', //                                   0
        'agents:', //                                       1
        '  a:', //                                          2
        '    provider: claude-code', //                     3
        '    instructions: prompts/there.md', //            4
        '  b:', //                                          5
        '    provider: claude-code', //                     6
        '    instructions: prompts/missing.md', //          7 value at 18..36
        'steps:', //                                        8
        '  - id: s', //                                     9
        '    agent: a', //                                  10
        '    prompt: hi', //                                11
        '',
      ].join('\n');
      fs.writeFileSync(file, text);
      const uri = pathToFileURL(file).href;
      const pub = await client.openAndWait(uri, text, 1);
      assert.deepEqual(pub.diagnostics.map(summarize), ['missing-file@7:18-7:36']);
      assert.equal(pub.diagnostics[0].severity, 2, 'a warning');
      assertDiagnosticShape(pub.diagnostics[0]);
      await client.close(uri);
    });

    it('CRLF line endings give the same ranges as LF', async () => {
      const uri = freshUri('crlf');
      const pub = await client.openAndWait(uri, MANY_ERRORS.replace(/\n/g, '\r\n'), 1);
      assert.deepEqual(pub.diagnostics.map(summarize), MANY_ERRORS_EXPECTED);
      await client.close(uri);
    });

    it('characters are UTF-16 code units (an emoji counts two)', async () => {
      const uri = freshUri('utf16');
      const text = ['name: emoji', 'steps:', '  - id: a', '    prompt: 🚀 é ${{ inputs.nope }}', '    run: echo', ''].join('\n');
      // "    prompt: " is 12, "🚀" 2, " é " 3, "${{ " 4 → inputs.nope at 21..32.
      const pub = await client.openAndWait(uri, text, 1);
      assert.ok(pub.diagnostics.map(summarize).includes('unknown-input@3:21-3:32'), JSON.stringify(pub.diagnostics.map(summarize)));
      await client.close(uri);
    });

    it('didChange (incremental) publishes for the new version without the fixed problem', async () => {
      const uri = freshUri('change');
      await client.openAndWait(uri, MANY_ERRORS, 1);
      const from = client.mark(uri);
      // 'reviewr' → 'reviewer': insert an 'e' before the last 'r' (line 13, character 17).
      await client.change(uri, 2, [{ range: range(13, 17, 13, 17), text: 'e' }]);
      const pub = await client.waitForDiagnostics(uri, { version: 2, from });
      assert.deepEqual(
        pub.diagnostics.map(summarize),
        MANY_ERRORS_EXPECTED.filter((s) => !s.startsWith('unknown-agent')),
      );
      await client.close(uri);
    });

    it('several quick changes: only the last version is published, never an older one after a newer', async () => {
      const uri = freshUri('quick');
      let doc = TextDocument.create(uri, 'yaml', 1, MANY_ERRORS);
      await client.openAndWait(uri, MANY_ERRORS, 1);
      const from = client.mark(uri);
      const edits: TextDocumentContentChangeEvent[][] = [
        [{ range: range(13, 17, 13, 17), text: 'e' }], //  v2: reviewr → reviewer
        [{ range: range(9, 27, 9, 27), text: 'a' }], //    v3: inputs.tsk → inputs.task
        [{ range: range(10, 4, 10, 9), text: 'needs' }], // v4: nedds → needs (now needs: [x])
        [{ range: range(15, 14, 15, 15), text: 'm' }], //  v5: 5x → 5m
        [{ range: range(19, 0, 20, 0), text: '' }], //     v6: drop the 'uses' line
      ];
      // Sent back to back, without awaiting any publish in between.
      const sends: Promise<void>[] = [];
      edits.forEach((changes, i) => {
        doc = TextDocument.update(doc, changes, i + 2);
        sends.push(client.change(uri, i + 2, changes));
      });
      await Promise.all(sends);
      const last = await client.waitForDiagnostics(uri, { version: 6, from });
      const expected = [
        'unknown-need@10:12-10:13',
        'unknown-need@12:18-12:22',
        'not-upstream@14:23-14:46',
        'dependency-cycle@17:19-17:23',
        'bad-expression@18:18-18:25',
        'dependency-cycle@20:11-20:15',
        'duplicate-id@22:8-22:12',
        'unreachable@28:11-28:14',
      ];
      assert.deepEqual(last.diagnostics.map(summarize), expected);

      // The final set is what the final text has: the host's own validation of the open text agrees.
      const res = await client.request<ValidateResult>('orchestrator/validate', { uri });
      assert.deepEqual(res.problems.map((p) => `${p.code}@${p.range.start.line}:${p.range.start.character}-${p.range.end.line}:${p.range.end.character}`), expected);
      assert.ok(!doc.getText().includes('uses:') && doc.getText().includes('inputs.task'), 'the edits applied as intended');

      // One more round trip so that any late (stale) publish would have arrived.
      const from7 = client.mark(uri);
      await client.change(uri, 7, [{ range: range(0, 0, 0, 0), text: '# a comment\n' }]);
      const p7 = await client.waitForDiagnostics(uri, { version: 7, from: from7 });
      assert.deepEqual(
        p7.diagnostics.map((d) => d.range.start.line),
        last.diagnostics.map((d) => d.range.start.line + 1),
        'every diagnostic moved down one line',
      );

      const versions = client.publishesFor(uri).slice(from).map((p) => p.version);
      assert.deepEqual(versions, [6, 7], `only the last of the quick changes is published (got versions ${JSON.stringify(versions)})`);
      const all = client.publishesFor(uri).map((p) => p.version ?? -1);
      for (let i = 1; i < all.length; i++) assert.ok(all[i] >= all[i - 1], `publish ${i} (version ${all[i]}) came after version ${all[i - 1]}`);
      await client.close(uri);
    });

    it('didClose clears the diagnostics (an empty publish)', async () => {
      const uri = freshUri('close');
      const pub = await client.openAndWait(uri, MANY_ERRORS, 1);
      assert.ok(pub.diagnostics.length > 0);
      const from = client.mark(uri);
      await client.close(uri);
      const cleared = await client.waitForDiagnostics(uri, { from });
      assert.deepEqual(cleared.diagnostics, []);
    });

    it('handles languageId orchestrator-workflow under any file name, and ignores other YAML', async () => {
      const named = 'file:///tmp/orchestrator-host-test/ci-config.yaml';
      const pub = await client.openAndWait(named, 'name: x\nsteps:\n  - id: a\n    run: echo\n    timeout: 5x\n', 1, 'orchestrator-workflow');
      assert.deepEqual(pub.diagnostics.map(summarize), ['bad-duration@4:13-4:15']);
      await client.close(named);

      const other = 'file:///tmp/orchestrator-host-test/docker-compose.yaml';
      await client.open(other, 'services: {}\n', 1, 'yaml');
      // Not a workflow: no diagnostics, and no features.
      assert.deepEqual(await client.completion(other, { line: 0, character: 0 }), []);
      assert.equal(client.publishesFor(other).length, 0);
      await client.close(other);
    });
  });

  describe('completion', () => {
    async function complete(marked: string): Promise<CompletionItem[]> {
      const { text, position } = withCursor(marked);
      const uri = freshUri('completion');
      await client.openAndWait(uri, text, 1);
      try {
        return await client.completion(uri, position);
      } finally {
        await client.close(uri);
      }
    }

    it('keys inside a step: the step keys not already present', async () => {
      // An empty line indented under the `lint` step item, between its keys.
      const items = await complete(demoWith(22, `    ${CURSOR}`, true));
      const got = labels(items);
      for (const k of ['agent', 'uses', 'approval', 'if', 'timeout', 'retry', 'env', 'outputs', 'on_error']) assert.ok(got.includes(k), `'${k}' offered: ${got.join(', ')}`);
      for (const k of ['id', 'needs', 'run']) assert.ok(!got.includes(k), `'${k}' is already present, not offered: ${got.join(', ')}`);
      const agent = items.find((i) => i.label === 'agent')!;
      assert.equal((agent.textEdit as { newText: string }).newText, 'agent: ');
    });

    it('keys inside a step, on a line after its last key', async () => {
      // An empty line after the last key of the `unit` step, before the next item.
      const items = await complete(demoWith(27, `    ${CURSOR}`, true));
      const got = labels(items);
      for (const k of ['agent', 'if', 'retry']) assert.ok(got.includes(k), `'${k}' offered: ${got.join(', ')}`);
      for (const k of ['id', 'needs', 'run', 'timeout']) assert.ok(!got.includes(k), `'${k}' is already present, not offered: ${got.join(', ')}`);
    });

    it('keys while typing a partial key in a step', async () => {
      const items = await complete(demoWith(22, `    ne${CURSOR}`, true));
      const agent = items.find((i) => i.label === 'env');
      assert.ok(agent, 'env offered');
      // The edit replaces the typed prefix.
      assert.deepEqual((agent.textEdit as { range: unknown }).range, range(22, 4, 22, 6));
    });

    it('keys at the top level', async () => {
      const items = await complete(demoWith(14, `${CURSOR}`, true));
      const got = labels(items);
      for (const k of ['version', 'env', 'defaults', 'deadline']) assert.ok(got.includes(k), `'${k}' offered: ${got.join(', ')}`);
      for (const k of ['name', 'description', 'inputs', 'agents', 'concurrency', 'steps']) assert.ok(!got.includes(k), `'${k}' already present: ${got.join(', ')}`);
      for (const k of ['run', 'needs', 'provider']) assert.ok(!got.includes(k), `'${k}' is not a top-level key: ${got.join(', ')}`);
    });

    it('step ids inside needs: [ ], without the current step', async () => {
      const got = labels(await complete(demoWith(28, `    needs: [${CURSOR}]`)));
      assert.deepEqual([...got].sort(), ['lint', 'plan', 'unit']);
      const got2 = labels(await complete(demoWith(28, `    needs: [lint, u${CURSOR}]`)));
      assert.deepEqual([...got2].sort(), ['lint', 'plan', 'unit']);
    });

    it('step ids inside an unclosed needs: [ while typing', async () => {
      const got = labels(await complete(demoWith(28, `    needs: [${CURSOR}`)));
      assert.ok(got.includes('plan') && got.includes('unit') && got.includes('lint'), `got ${got.join(', ')}`);
      assert.ok(!got.includes('report'), `the current step is not offered: ${got.join(', ')}`);
    });

    it('agent names after agent: ', async () => {
      const got = labels(await complete(demoWith(29, `    agent: ${CURSOR}`)));
      assert.deepEqual([...got].sort(), ['builder', 'planner']);
    });

    it('expression contexts and functions after ${{ ', async () => {
      const got = labels(await complete(demoWith(22, `    run: echo \${{ ${CURSOR} }}`)));
      for (const k of ['inputs', 'steps', 'env', 'secrets', 'matrix', 'session', 'workflow', 'contains', 'format']) assert.ok(got.includes(k), `'${k}' offered: ${got.join(', ')}`);
      for (const k of ['needs', 'run', 'plan']) assert.ok(!got.includes(k), `'${k}' is not an expression start: ${got.join(', ')}`);
    });

    it('input names after ${{ inputs.', async () => {
      const items = await complete(demoWith(22, `    run: echo \${{ inputs.${CURSOR} }}`));
      assert.deepEqual(labels(items).sort(), ['depth', 'task']);
      assert.equal(items.find((i) => i.label === 'task')!.detail, 'the task');
    });

    it('outputs, status and findings after ${{ steps.plan.', async () => {
      const got = labels(await complete(demoWith(22, `    run: echo \${{ steps.plan.${CURSOR} }}`)));
      assert.deepEqual([...got].sort(), ['findings', 'outputs', 'status']);
    });

    it('step ids after ${{ steps., and output names after steps.plan.outputs.', async () => {
      const ids = labels(await complete(demoWith(22, `    run: echo \${{ steps.${CURSOR} }}`)));
      assert.ok(ids.includes('plan') && !ids.includes('lint'), `other steps, not the current one: ${ids.join(', ')}`);
      const outs = labels(await complete(demoWith(22, `    run: echo \${{ steps.plan.outputs.${CURSOR} }}`)));
      assert.deepEqual([...outs].sort(), ['summary', 'text']);
    });
  });

  describe('hover', () => {
    let uri: string;
    before(async () => {
      uri = freshUri('hover');
      await client.openAndWait(uri, DEMO, 1);
    });
    after(async () => {
      await client.close(uri);
    });

    it('on a step key (needs) shows its description as markdown, with the key range', async () => {
      const h = await client.hover(uri, positionOf(DEMO, 'needs: plan', 2));
      assert.ok(h, 'a hover');
      assert.equal((h.contents as { kind: string }).kind, 'markdown');
      assert.match(hoverText(h), /\*\*needs\*\*/);
      assert.match(hoverText(h), /must succeed before this step runs/);
      assert.deepEqual(h.range, range(21, 4, 21, 9));
    });

    it('on timeout', async () => {
      const h = await client.hover(uri, positionOf(DEMO, 'timeout: 10m', 0));
      assert.match(hoverText(h), /\*\*timeout\*\*/);
      assert.match(hoverText(h), /Time limit of one attempt/);
    });

    it('on top-level concurrency', async () => {
      const h = await client.hover(uri, positionOf(DEMO, 'concurrency', 5));
      assert.match(hoverText(h), /\*\*concurrency\*\*/);
      assert.match(hoverText(h), /At most this many steps run at once/);
      assert.deepEqual(h!.range, range(13, 0, 13, 11));
    });

    it('on a step id inside needs shows that step', async () => {
      // `unit` in `needs: [lint, unit]` (line 28).
      const h = await client.hover(uri, positionOf(DEMO, 'needs: [lint, unit]', 15));
      const t = hoverText(h);
      assert.match(t, /\*\*unit\*\*/);
      assert.match(t, /run/);
      assert.match(t, /line 24/, 'the line (1-based) where the step starts');
      assert.deepEqual(h!.range, range(28, 18, 28, 22));
    });

    it('on a plain value: nothing', async () => {
      const h = await client.hover(uri, positionOf(DEMO, 'echo lint', 2));
      assert.equal(h, null);
    });
  });

  describe('document symbols', () => {
    it('lists the steps (ids) under steps', async () => {
      const uri = freshUri('symbols');
      await client.openAndWait(uri, DEMO, 1);
      const syms = (await client.documentSymbols(uri)) as DocumentSymbol[];
      const names = syms.map((s) => s.name);
      assert.deepEqual(names, ['name', 'description', 'inputs', 'agents', 'concurrency', 'steps']);
      const steps = syms.find((s) => s.name === 'steps');
      assert.ok(steps?.children, 'steps has children');
      assert.deepEqual(steps.children.map((c) => c.name), ['plan', 'lint', 'unit', 'report']);
      const unit = steps.children[2];
      assert.deepEqual(unit.selectionRange, range(23, 8, 23, 12));
      assert.equal(unit.range.start.line, 23);
      assert.ok(unit.range.end.line >= 26, 'the step range covers its keys');
      assert.deepEqual(syms.find((s) => s.name === 'inputs')!.children?.map((c) => c.name), ['task', 'depth']);
      await client.close(uri);
    });

    it('lists stages and parallel items of a pipeline', async () => {
      const uri = freshUri('pipeline-symbols');
      const pub = await client.openAndWait(uri, PIPELINE, 1);
      assert.deepEqual(pub.diagnostics.map(summarize), [], 'the pipeline fixture is valid');
      const syms = (await client.documentSymbols(uri)) as DocumentSymbol[];
      const pipeline = syms.find((s) => s.name === 'pipeline');
      assert.ok(pipeline, `a pipeline symbol among ${syms.map((s) => s.name).join(', ')}`);
      assert.ok(pipeline.children, 'pipeline has children');
      assert.deepEqual(pipeline.children.map((c) => c.name), ['plan', 'implement', 'audit']);
      const implement = pipeline.children[1];
      assert.equal(implement.detail, 'parallel');
      assert.ok(implement.children, 'a parallel stage has children');
      assert.deepEqual(implement.children.map((c) => c.name), ['backend', 'frontend']);
      assert.deepEqual(implement.children[0].selectionRange, range(12, 14, 12, 21));
      assert.deepEqual(implement.selectionRange, range(10, 11, 10, 20));
      await client.close(uri);
    });
  });

  describe('code lenses', () => {
    it('"Run workflow" and "Show plan" on the name', async () => {
      const uri = freshUri('lens');
      await client.openAndWait(uri, DEMO, 1);
      const lenses = (await client.codeLenses(uri)) ?? [];
      const run = lenses.find((l) => l.command?.command === 'orchestrator.runWorkflow');
      assert.ok(run, `a run lens among ${JSON.stringify(lenses)}`);
      assert.match(run.command!.title, /Run workflow/);
      assert.deepEqual(run.command!.arguments, [uri]);
      assert.deepEqual(run.range, range(0, 0, 0, 0));
      const plan = lenses.find((l) => l.command?.title === 'Show plan');
      assert.ok(plan, 'a Show plan lens');
      assert.equal(plan.command!.command, 'orchestrator.showPlan');
      await client.close(uri);
    });
  });

  it('in an untrusted workspace: "Show plan" only, no "Run workflow"', async () => {
    const untrusted = await LspClient.start({ initializationOptions: { trusted: false } });
    try {
      const uri = freshUri('lens-untrusted');
      await untrusted.openAndWait(uri, DEMO, 1);
      const lenses = (await untrusted.codeLenses(uri)) ?? [];
      assert.deepEqual(lenses.map((l) => l.command?.command), ['orchestrator.showPlan']);
    } finally {
      await untrusted.stop();
    }
  });

  describe('custom requests', () => {
    it('orchestrator/validate reads a file on disk that is not open', async () => {
      const file = path.join(tmp, 'disk.workflow.yaml');
      fs.writeFileSync(file, MANY_ERRORS);
      const uri = pathToFileURL(file).href;
      const res = await client.request<ValidateResult>('orchestrator/validate', { uri });
      assert.equal(res.uri, uri);
      const got = res.problems.map((p) => `${p.code}@${p.range.start.line}:${p.range.start.character}-${p.range.end.line}:${p.range.end.character}`);
      assert.deepEqual(got, MANY_ERRORS_EXPECTED);
      assert.equal(res.problems.find((p) => p.code === 'unreachable')!.severity, 'warning');
      assert.equal(res.problems.find((p) => p.code === 'schema')!.severity, 'error');
      assert.equal(client.publishesFor(uri).length, 0, 'no diagnostics for a document that is not open');
    });

    it('orchestrator/validate of a missing file is an error response, and the host keeps serving', async () => {
      const uri = pathToFileURL(path.join(tmp, 'nope.workflow.yaml')).href;
      await assert.rejects(client.request('orchestrator/validate', { uri }));
      assert.ok(client.alive);
    });

    it('orchestrator/plan of a valid workflow: levels show what runs in parallel', async () => {
      const uri = freshUri('plan');
      await client.openAndWait(uri, DEMO, 1);
      const res = await client.request<PlanResult>('orchestrator/plan', { uri });
      assert.equal(res.ok, true, JSON.stringify(res));
      if (!res.ok) return;
      assert.equal(res.workflow, 'demo');
      assert.equal(res.concurrency, 2);
      assert.deepEqual(res.levels, [['plan'], ['lint', 'unit'], ['report']]);
      const report = res.steps.find((s) => s.id === 'report')!;
      assert.deepEqual(report, { id: 'report', kind: 'agent', needs: ['lint', 'unit'], level: 2, instances: [] });
      assert.match(res.text, /Level 2 \(2 in parallel\)/);
      await client.close(uri);
    });

    it('orchestrator/plan of a pipeline compiles stages and parallel items', async () => {
      const file = path.join(tmp, 'staged.workflow.yaml');
      fs.writeFileSync(file, PIPELINE);
      const res = await client.request<PlanResult>('orchestrator/plan', { uri: pathToFileURL(file).href });
      assert.equal(res.ok, true, JSON.stringify(res));
      if (!res.ok) return;
      assert.deepEqual(res.levels, [['plan'], ['backend', 'frontend'], ['audit']]);
      assert.deepEqual(res.steps.find((s) => s.id === 'audit')!.needs, ['backend', 'frontend']);
      assert.equal(res.steps.find((s) => s.id === 'frontend')!.stage, 'implement');
    });

    it('orchestrator/plan of an invalid workflow: ok false with its problems', async () => {
      const uri = freshUri('plan-bad');
      await client.openAndWait(uri, MANY_ERRORS, 1);
      const res = await client.request<PlanResult>('orchestrator/plan', { uri });
      assert.equal(res.ok, false);
      if (res.ok) return;
      assert.deepEqual(
        res.problems.map((p) => `${p.code}@${p.range.start.line}:${p.range.start.character}-${p.range.end.line}:${p.range.end.character}`),
        MANY_ERRORS_EXPECTED,
      );
      await client.close(uri);
    });
  });

  it('logged no internal error during the whole run', () => {
    assert.deepEqual(client.errorLogs(), []);
    assert.ok(!/internal error|unhandled rejection/.test(client.stderr), client.stderr);
    assert.ok(client.alive);
  });
});

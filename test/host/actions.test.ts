/**
 * Built-in actions in the editor: completion after `uses:` and under `with:`, hover on the action
 * and on its arguments, and the unknown-action diagnostic, from the pure language functions and
 * through the REAL built host over stdio (build first: `npm run build`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CompletionItem, Position } from 'vscode-languageserver-protocol';
import { completion, hover } from '../../server/src/host/language';
import { LineIndex } from '../../server/src/workflow/problems';
import { validateWorkflow } from '../../server/src/workflow/validate';
import { freshUri, hoverText, LspClient } from './lspClient';

const CURSOR = '‸';

function at(marked: string): { text: string; offset: number; position: Position } {
  const offset = marked.indexOf(CURSOR);
  const text = marked.replace(CURSOR, '');
  return { text, offset, position: new LineIndex(text).position(offset) };
}

function complete(marked: string): CompletionItem[] {
  const { text, position } = at(marked);
  return completion(validateWorkflow(text), new LineIndex(text), position);
}

function hoverAt(marked: string): string {
  const { text, position } = at(marked);
  return hoverText(hover(validateWorkflow(text), new LineIndex(text), position));
}

describe('action completion and hover (language functions)', () => {
  it('after uses: the built-in actions, each with its with: arguments; the typed prefix is replaced', () => {
    const items = complete('name: x\nsteps:\n  - id: a\n    uses: findings/s‸\n');
    assert.deepEqual(items.map((i) => i.label), ['findings/sarif', 'findings/merge', 'git/merge', 'git/apply']);
    const sarif = items[0];
    assert.deepEqual((sarif.textEdit as { range: unknown }).range, { start: { line: 3, character: 10 }, end: { line: 3, character: 20 } });
    const doc = (sarif.documentation as { value: string }).value;
    assert.match(doc, /^\*\*findings\/sarif\*\* \(built-in action\)/);
    assert.match(doc, /- `file` \(string, required\): Path of the SARIF/);
    assert.deepEqual(complete('name: x\nsteps:\n  - { id: a, uses: ‸ }\n').map((i) => i.label), ['findings/sarif', 'findings/merge', 'git/merge', 'git/apply']);
  });

  it("under with: the step's action's arguments not yet given", () => {
    const items = complete('name: x\nsteps:\n  - id: a\n    uses: findings/sarif\n    with:\n      ‸\n');
    assert.deepEqual(items.map((i) => [i.label, i.detail]), [['file', 'string, required']]);
    assert.equal((items[0].textEdit as { newText: string }).newText, 'file: ');
    assert.deepEqual(complete('name: x\nsteps:\n  - id: a\n    uses: findings/sarif\n    with:\n      path: x\n      ‸\n'), [], 'path is file under another name');
    assert.deepEqual(complete('name: x\nsteps:\n  - id: a\n    uses: findings/merge\n    with:\n      ‸\n'), []);
  });

  it('hover on the action and on an argument; nothing on an unknown action', () => {
    assert.match(hoverAt('name: x\nsteps:\n  - id: a\n    uses: findings/sa‸rif\n    with: { file: x }\n'), /^\*\*findings\/sarif\*\* \(built-in action\)\n\nImports a SARIF 2\.1\.0/);
    assert.match(hoverAt('name: x\nsteps:\n  - id: a\n    uses: findings/sarif\n    with: { fi‸le: x }\n'), /^\*\*file\*\* \(string, required\) — argument of `findings\/sarif`/);
    assert.match(hoverAt('name: x\nsteps:\n  - id: a\n    uses: findings/sarif\n    with:\n      pa‸th: x\n'), /^\*\*file\*\*/);
    assert.doesNotMatch(hoverAt('name: x\nsteps:\n  - id: a\n    uses: foo/b‸ar\n'), /built-in action/);
  });
});

describe('action completion, hover and diagnostics (the real host)', () => {
  let client: LspClient;
  before(async () => {
    client = await LspClient.start({ initializationOptions: { trusted: true }, env: { ORCHESTRATOR_DEBOUNCE_MS: '0' } });
  });
  after(async () => {
    await client.stop();
  });

  it('answers with the same items, and reports uses: foo/bar at the value', async () => {
    const { text, position } = at('name: x\nsteps:\n  - id: a\n    uses: foo/bar‸\n');
    const uri = freshUri('actions');
    const published = await client.openAndWait(uri, text, 1);
    assert.deepEqual(
      published.diagnostics.map((d) => [d.code, d.range.start.line, d.range.start.character, d.range.end.character]),
      [['unknown-action', 3, 10, 17]],
    );
    assert.deepEqual((await client.completion(uri, position)).map((i) => i.label), ['findings/sarif', 'findings/merge', 'git/merge', 'git/apply']);
    const uri2 = freshUri('actions');
    const second = at('name: x\nsteps:\n  - id: a\n    uses: findings/me‸rge\n');
    await client.openAndWait(uri2, second.text, 1);
    assert.match(hoverText(await client.hover(uri2, second.position)), /\*\*findings\/merge\*\* \(built-in action\)/);
  });
});

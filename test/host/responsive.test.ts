/**
 * The REAL built host stays responsive while a large or hostile document is being validated
 * (issue 10 §3). A test hook holds that validation: with ORCHESTRATOR_TEST_HOLD_VALIDATION=<fifo>,
 * a text containing HOLD_MARKER is validated only once the test writes to the fifo (while the
 * fifo exists: the test removes it when it lets the validation go on). So the test
 * knows, without guessing durations, that the validation is under way while it talks to the
 * host about another document, and asserts the order of events. Build first: `npm run build`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HOLD_MARKER } from '../../server/src/host/documents';
import { HOSTILE_SHAPES, STEPS_FORM } from './fuzzCases';
import { freshUri, LspClient, messageOf, positionOf, summarize } from './lspClient';

describe('the host answers other documents while one is being validated', () => {
  let dir: string;
  let fifo: string;
  let client: LspClient;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-host-responsive-'));
    fifo = path.join(dir, 'hold');
    client = await LspClient.start({ env: { ORCHESTRATOR_TEST_HOLD_VALIDATION: fifo, ORCHESTRATOR_DEBOUNCE_MS: '5' } });
  });

  after(async () => {
    await client?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** From now on, validations of texts with HOLD_MARKER wait for release(). */
  function hold(): void {
    const made = spawnSync('mkfifo', [fifo]);
    assert.equal(made.status, 0, `mkfifo: ${String(made.stderr)}`);
  }

  /** Lets the held validation go on: open the fifo for writing (waits for the reader), remove it, write, close. */
  async function release(): Promise<void> {
    const h = await fs.promises.open(fifo, 'w');
    fs.unlinkSync(fifo);
    await h.write('go');
    await h.close();
  }

  it('a 10,000-step needs cycle held mid-validation: another document is validated, completed and edited first', async () => {
    const cycle = HOSTILE_SHAPES.find((s) => s.name === 'needs cycle')!.make(10_000);
    const hostile = `${HOLD_MARKER}\n${cycle}`;
    const hostileUri = freshUri('hostile-cycle');
    const otherUri = freshUri('other');
    const order: string[] = [];

    hold();
    await client.open(hostileUri, hostile, 1);
    // Requests about the hostile document wait for its validation; they must not hold the others.
    const symbols = client.request<unknown[]>('textDocument/documentSymbol', { textDocument: { uri: hostileUri } }).then((r) => {
      order.push('hostile symbols');
      return r;
    });
    const hostilePublish = client.waitForDiagnostics(hostileUri, { version: 1 }).then((p) => {
      order.push('hostile diagnostics');
      return p;
    });

    await client.open(otherUri, STEPS_FORM, 1);
    const otherPublish = await client.waitForDiagnostics(otherUri, { version: 1 });
    order.push('other diagnostics');
    assert.deepEqual(otherPublish.diagnostics.map(summarize), []);
    const at = positionOf(STEPS_FORM, 'inputs.task', 'inputs.'.length);
    const items = await client.completion(otherUri, at);
    order.push('other completion');
    assert.ok(items.some((i) => i.label === 'task'), `completion: ${items.map((i) => i.label).join(', ')}`);
    // An edit of the other document is validated and published too.
    const edited = STEPS_FORM.replace('npm run lint', 'npm run lint -- --fix');
    await client.replaceAll(otherUri, 2, edited);
    await client.waitForDiagnostics(otherUri, { version: 2 });
    order.push('other edit diagnostics');

    assert.deepEqual(client.publishesFor(hostileUri), [], 'the hostile document is still being validated');
    await release();
    const pub = await hostilePublish;
    await symbols;
    assert.deepEqual(order, ['other diagnostics', 'other completion', 'other edit diagnostics', 'hostile diagnostics', 'hostile symbols']);
    assert.deepEqual(pub.diagnostics.map((d) => d.code), ['dependency-cycle']);
    assert.match(messageOf(pub.diagnostics[0]), /^dependency cycle of 10000 steps: s0 → s1 → /);
    assert.deepEqual(client.errorLogs(), []);
    await client.close(hostileUri);
    await client.close(otherUri);
  });

  it('edits that arrive while a large document is held are coalesced: the latest text is published', async () => {
    const chain = HOSTILE_SHAPES.find((s) => s.name === 'needs chain, each step reading the far end')!.make(2_000);
    const uri = freshUri('held-edits');
    hold();
    await client.open(uri, `${HOLD_MARKER}\n${chain}`, 1);
    // While version 1 is held, three edits; the last one breaks a need.
    for (const [v, text] of [[2, `${HOLD_MARKER}\n${chain}# two\n`], [3, `${HOLD_MARKER}\n${chain}# three\n`], [4, `${HOLD_MARKER}\n${chain.replace('needs: s1\n', 'needs: s1x\n')}`]] as const) {
      await client.replaceAll(uri, v, text);
    }
    // The debounced validation of version 4 is queued behind the held one: ask about version 4 too.
    const hover = client.hover(uri, { line: 1, character: 0 });
    const other = freshUri('other-while-held');
    await client.openAndWait(other, STEPS_FORM, 1);
    assert.deepEqual(client.publishesFor(uri), []);
    await release();
    const pub = await client.waitForDiagnostics(uri, { version: 4 });
    await hover;
    assert.deepEqual(pub.diagnostics.map((d) => d.code), ['unknown-need', 'not-upstream', 'not-upstream']);
    assert.deepEqual(client.publishesFor(uri).map((p) => p.version), [4], 'versions 1 to 3 were not published (superseded or stale)');
    await client.close(uri);
    await client.close(other);
  });
});

describe('an open is validated once', () => {
  it('small and large documents: one validation and one publish per open, not a second one for the open\'s content change', async () => {
    // Debounce 0: a validation scheduled by mistake for the open would run at the next turn of
    // the host's loop, long before the requests below are answered.
    const client = await LspClient.start({ env: { ORCHESTRATOR_DEBOUNCE_MS: '0' }, initializationOptions: { logLevel: 'debug' } });
    try {
      const large = HOSTILE_SHAPES.find((s) => s.name === 'needs cycle')!.make(1_000);
      for (const [stem, text] of [['small', STEPS_FORM], ['large', large]] as const) {
        const uri = freshUri(`once-${stem}`);
        await client.openAndWait(uri, text, 1);
        await client.request('textDocument/documentSymbol', { textDocument: { uri } });
        await client.openAndWait(freshUri(`once-${stem}-after`), STEPS_FORM, 1);
        await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 0 } });
        assert.equal(client.publishesFor(uri).length, 1, `${stem}: publishes ${JSON.stringify(client.publishesFor(uri).map((p) => p.version))}`);
        const validated = client.logs.filter((l) => l.message.startsWith(`validated ${uri} `));
        assert.equal(validated.length, 1, `${stem}: ${validated.length} validations logged`);
      }
    } finally {
      await client.stop();
    }
  });
});

/**
 * What a running session's command prints goes through the session's masker (cli/output.ts
 * maskWrites): a detached runner's stderr is a file on disk (`sessions/.<id>.runner.log`).
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { maskWrites } from '../../server/src/cli/output';
import { Masker } from '../../server/src/engine/secrets';

describe('maskWrites', () => {
  it('masks strings and buffers written to the stream, keeps the callback, and can be undone', async () => {
    const s = new PassThrough();
    const chunks: string[] = [];
    s.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const m = new Masker(['hunter2-very-secret']);
    const undo = maskWrites(s, (t) => m.mask(t));
    s.write('token=hunter2-very-secret\n');
    await new Promise<void>((r) => s.write(Buffer.from('again hunter2-very-secret\n'), () => r()));
    s.write('plain\n', 'utf8');
    undo();
    s.write('after undo hunter2-very-secret\n');
    const text = chunks.join('');
    assert.match(text, /token=\*\*\*\n/);
    assert.match(text, /again \*\*\*\n/);
    assert.match(text, /plain\n/);
    assert.equal(text.split('hunter2-very-secret').length, 2, 'only the write after undo shows the value');
  });
});

/**
 * Which sessions prune chooses (store/prune.ts), on real sessions run by the engine, with the time
 * ages are measured from given (`now`), so that no assertion depends on how fast the machine is:
 * --older-than, --keep, --max-size (oldest first until all fits), several rules at once, the
 * session auto-prune must not remove (`exclude`), and the editor's confirmed list (`only`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { prune, sessionBytes, type PruneCriteria } from '../../server/src/store/prune';
import { listSessionIds } from '../../server/src/store/sessionStore';
import { cleanupRepos, makeRepo, runToRest, type Finished, type Repo } from './helpers';

after(cleanupRepos);

describe('prune chooses', () => {
  let repo: Repo;
  let s: Finished[] = [];
  const last = (f: Finished): number => Date.parse(f.state.finishedAt ?? f.state.updatedAt);

  before(async () => {
    repo = makeRepo('name: t\nsteps:\n  - id: a\n    run: echo hello\n');
    s = [];
    for (let i = 0; i < 4; i++) s.push(await runToRest(repo));
    for (let i = 1; i < 4; i++) assert.ok(last(s[i]) > last(s[i - 1]), 'the sessions end one after the other');
  });

  const chosen = async (criteria: PruneCriteria, extra: { exclude?: string[]; only?: string[] } = {}): Promise<[string, string[]][]> =>
    (await prune({ repoRoot: repo.root, criteria, dryRun: true, now: last(s[3]) + 3_600_000, ...extra })).removed.map((x) => [x.id, x.why]);

  it('--older-than: those whose last activity is older', async () => {
    const now = last(s[3]) + 3_600_000;
    assert.deepEqual(await chosen({ maxAgeMs: now - last(s[1]) - 1, maxAgeText: 'D' }), [
      [s[0].id, ['older than D']],
      [s[1].id, ['older than D']],
    ]);
    assert.deepEqual(await chosen({ maxAgeMs: now - last(s[0]), maxAgeText: 'D' }), [], 'exactly as old is not older');
  });

  it('--keep: all but the newest N, oldest first', async () => {
    assert.deepEqual((await chosen({ keep: 2 })).map(([id]) => id), [s[0].id, s[1].id]);
    assert.deepEqual((await chosen({ keep: 4 })).map(([id]) => id), []);
    assert.deepEqual((await chosen({ keep: 0 })).map(([id]) => id), s.map((f) => f.id));
  });

  it('--max-size: the oldest until all sessions fit', async () => {
    const sizes = s.map((f) => sessionBytes(repo.root, f.id));
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.deepEqual(await chosen({ maxSizeBytes: total }), []);
    assert.deepEqual(await chosen({ maxSizeBytes: total - sizes[0], maxSizeText: 'X' }), [[s[0].id, ['over max_size X']]]);
    assert.deepEqual((await chosen({ maxSizeBytes: total - sizes[0] - 1 })).map(([id]) => id), [s[0].id, s[1].id]);
    const report = await prune({ repoRoot: repo.root, criteria: { maxSizeBytes: total - sizes[0] - 1 }, dryRun: true });
    assert.equal(report.freedBytes, sizes[0] + sizes[1]);
  });

  it('several rules: a session goes when any rule says so, each reason said', async () => {
    const now = last(s[3]) + 3_600_000;
    assert.deepEqual(await chosen({ keep: 3, maxAgeMs: now - last(s[1]) - 1, maxAgeText: 'D' }), [
      [s[0].id, ['beyond the newest 3', 'older than D']],
      [s[1].id, ['older than D']],
    ]);
  });

  it('exclude is counted but never removed; only limits the removal to a confirmed list', async () => {
    assert.deepEqual((await chosen({ keep: 1 }, { exclude: [s[0].id] })).map(([id]) => id), [s[1].id, s[2].id]);
    assert.deepEqual((await chosen({ keep: 0 }, { only: [s[2].id] })).map(([id]) => id), [s[2].id]);
  });

  it('removes for real what the dry run listed, and counts what is left', async () => {
    const report = await prune({ repoRoot: repo.root, criteria: { keep: 3 } });
    assert.deepEqual(report.removed.map((x) => x.id), [s[0].id]);
    assert.equal(report.kept, 3);
    assert.deepEqual(listSessionIds(repo.root).sort(), s.slice(1).map((f) => f.id).sort());
  });
});

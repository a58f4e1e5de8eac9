/**
 * A session's git work from its state (engine/workspace/sessionGit.ts): the branches its steps
 * made, what can be applied, and which step is its result (the Sessions view's Apply / Discard on
 * a session row).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sessionGit } from '../../server/src/engine/workspace/sessionGit';
import type { SessionState, StepState } from '../../server/src/engine/types';

const ID = '20260302-095655-k3fq';
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

function st(id: string, over: Partial<StepState> = {}): StepState {
  return { id, stepId: id.replace(/\[.*$/, ''), status: 'succeeded', attempt: 1, outputs: {}, findings: 0, ...over };
}
/** A worktree step (or git/merge) that committed `files`. */
function wt(id: string, files: string, over: Partial<StepState> = {}): StepState {
  return st(id, { outputs: { branch: `orchestrator/${ID}/${id}`, base: B, commit: C, changed_files: files, worktree: `/x/${id}` }, ...over });
}
function session(steps: StepState[], uses: Record<string, string> = {}): SessionState {
  return {
    id: ID,
    workflow: { name: 'W', file: 'w.yaml', hash: 'h', compiled: { name: 'W', definition: {}, hash: 'h', steps: steps.map((s) => ({ id: s.stepId, needs: [], kind: uses[s.stepId] ? 'uses' : 'run', ...(uses[s.stepId] ? { uses: uses[s.stepId] } : { run: 'x' }) })) } as unknown as SessionState['workflow']['compiled'] },
    inputs: {},
    status: 'succeeded',
    startedAt: '',
    updatedAt: '',
    steps: Object.fromEntries(steps.map((s) => [s.id, s])),
    order: steps.map((s) => s.id),
    findings: [],
    rawFindings: [],
    seq: 1,
    controlApplied: 0,
  };
}

describe('sessionGit', () => {
  it('nothing for a session without branches', () => {
    assert.equal(sessionGit(session([st('a'), st('land', { outputs: { mode: 'merge', commit: C, branch: 'main', changed_files: 'x' } })])), undefined);
  });

  it('the pipeline: the last git/merge that changed files is the result; a step that changed nothing is not appliable', () => {
    const g = sessionGit(session([st('plan'), wt('backend', 'server.js'), wt('frontend', 'web.js'), wt('integrate', 'server.js\nweb.js'), wt('audit', ''), st('land')], { integrate: 'git/merge', land: 'git/apply' }));
    assert.deepEqual(g, { branches: ['backend', 'frontend', 'integrate', 'audit'], appliable: ['backend', 'frontend', 'integrate'], result: 'integrate' });
  });

  it('no merge: the only step with changes is the result; two are a question (no result)', () => {
    assert.deepEqual(sessionGit(session([wt('make', 'a.txt'), wt('check', '')])), { branches: ['make', 'check'], appliable: ['make'], result: 'make' });
    assert.deepEqual(sessionGit(session([wt('a', 'a.txt'), wt('b', 'b.txt')])), { branches: ['a', 'b'], appliable: ['a', 'b'] });
  });

  it('a failed step and a conflicted merge keep their branches but apply nothing; another session\'s branch is not ours', () => {
    const conflicted = st('integrate', { status: 'failed', outputs: { branch: `orchestrator/${ID}/integrate`, base: B, worktree: '/x', conflicts: 'a' } });
    const g = sessionGit(session([wt('a', 'a.txt', { status: 'failed' }), conflicted, wt('b', 'b.txt', { outputs: { branch: 'orchestrator/other/b', base: B, commit: C, changed_files: 'b.txt' } })], { integrate: 'git/merge' }));
    assert.deepEqual(g, { branches: ['a', 'integrate'], appliable: [] });
  });
});

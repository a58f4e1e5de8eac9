/**
 * A step's environment (engine/steps/stepEnv.ts), which shell steps, CLI agents and `verify:`
 * checks share: made in one place, so the kinds of step cannot drift apart.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { envText, stepEnv } from '../../server/src/engine/steps/stepEnv';
import { STEP_TOKEN_ENV } from '../../server/src/engine/steps/stepProcesses';
import type { ExecuteInput } from '../../server/src/engine/steps/executeStep';

const ctx = { contexts: { inputs: { who: 'world' } } };

function input(env: Record<string, string | number | boolean>): Parameters<typeof stepEnv>[0] {
  return {
    baseEnv: { PATH: '/bin', SHARED: 'base', ORCHESTRATOR_STEP_ID: 'from the base' },
    workflowEnv: { SHARED: 'workflow', ONLY_WF: 1 },
    def: { id: 's', kind: 'run', needs: [], run: 'true', env },
    ctx,
    session: { id: 'sess-1' } as ExecuteInput['session'],
    step: { id: 's' } as ExecuteInput['step'],
    attempt: 2,
  };
}

describe('stepEnv', () => {
  it("layers the base, the workflow's env, the step's env (expressions evaluated), then ORCHESTRATOR_*", () => {
    const env = stepEnv(input({ SHARED: 'step ${{ inputs.who }}', FLAG: true, ORCHESTRATOR_ATTEMPT: 'mine' }));
    assert.deepEqual(env, {
      PATH: '/bin',
      SHARED: 'step world',
      ONLY_WF: '1',
      FLAG: 'true',
      ORCHESTRATOR_SESSION_ID: 'sess-1',
      ORCHESTRATOR_STEP_ID: 's',
      ORCHESTRATOR_ATTEMPT: '2',
      [STEP_TOKEN_ENV]: 'sess-1/s/2',
    });
  });

  it('throws when an expression cannot be evaluated (the step then fails saying so)', () => {
    assert.throws(() => envText({ X: "${{ fromJSON('{') }}" }, ctx));
  });

  it('is the only envText of the engine', () => {
    const engine = path.join(__dirname, '..', '..', 'server', 'src', 'engine');
    const defining = (fs.readdirSync(engine, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /function envText\b/.test(fs.readFileSync(path.join(engine, f), 'utf8')));
    assert.deepEqual(defining, [path.join('steps', 'stepEnv.ts')]);
  });
});

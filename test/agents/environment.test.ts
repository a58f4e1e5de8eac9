/** The environment of a CLI agent (issue 11, item 1): clean base, no foreign vendor keys, its own settings on top. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentEnv, foreignKeys, VENDOR_KEYS } from '../../server/src/agents/environment';

const base = {
  PATH: '/usr/bin',
  HOME: '/home/u',
  ORCHESTRATOR_SECRET_DB: 'hunter2-db',
  OPENAI_API_KEY: 'sk-openai',
  ANTHROPIC_API_KEY: 'sk-ant',
  GEMINI_API_KEY: 'g-key',
  OPENROUTER_API_KEY: 'or-key',
};

describe('agentEnv', () => {
  it('drops every secret variable, whatever the tool', () => {
    for (const vendor of [undefined, 'anthropic', 'openai', 'google']) assert.equal(agentEnv(base, {}, vendor).ORCHESTRATOR_SECRET_DB, undefined);
  });

  it('a single-vendor tool keeps its own vendor\'s keys and loses the others\'', () => {
    const claude = agentEnv(base, {}, 'anthropic');
    assert.equal(claude.ANTHROPIC_API_KEY, 'sk-ant');
    assert.equal(claude.OPENAI_API_KEY, undefined);
    assert.equal(claude.GEMINI_API_KEY, undefined);
    assert.equal(claude.OPENROUTER_API_KEY, undefined);
    assert.equal(claude.PATH, '/usr/bin');
    const codex = agentEnv(base, {}, 'openai');
    assert.deepEqual(Object.keys(codex).sort(), ['HOME', 'OPENAI_API_KEY', 'PATH']);
  });

  it('a multi-vendor tool (no vendor) keeps the user\'s own keys; the provider\'s env goes on top and undefined removes', () => {
    const e = agentEnv(base, { OPENAI_API_KEY: 'from-secret', HOME: undefined, EXTRA: '1' });
    assert.equal(e.OPENAI_API_KEY, 'from-secret');
    assert.equal(e.HOME, undefined);
    assert.equal(e.EXTRA, '1');
    assert.equal(e.ANTHROPIC_API_KEY, 'sk-ant');
  });

  it('the provider\'s own key is given even to a single-vendor tool of another vendor when configured so', () => {
    assert.equal(agentEnv(base, { OPENAI_API_KEY: 'k' }, 'anthropic').OPENAI_API_KEY, 'k');
  });

  it('without a base, this process\'s environment, cleaned', () => {
    process.env.ORCHESTRATOR_SECRET_ZZ_TEST = 'x-secret';
    try {
      assert.equal(agentEnv(undefined).ORCHESTRATOR_SECRET_ZZ_TEST, undefined);
    } finally {
      delete process.env.ORCHESTRATOR_SECRET_ZZ_TEST;
    }
  });

  it('foreignKeys lists the others\' keys only', () => {
    const f = foreignKeys('google');
    for (const k of VENDOR_KEYS.google) assert.ok(!f.includes(k));
    assert.ok(f.includes('ANTHROPIC_API_KEY') && f.includes('OPENAI_API_KEY'));
  });
});

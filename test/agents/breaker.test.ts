import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BreakerRegistry, CircuitBreaker } from '../../server/src/agents/breaker';
import { ProviderError } from '../../server/src/agents/provider';

function clock(start = Date.UTC(2026, 0, 1, 12, 0, 0)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function hhmmss(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold; a success resets the count', () => {
    const c = clock();
    const b = new CircuitBreaker({ name: 'openai', now: c.now });
    b.failure(new Error('boom'));
    b.failure(new Error('boom'));
    assert.deepEqual(b.check(), { open: false });
    b.success();
    b.failure(new Error('boom'));
    b.failure(new Error('boom'));
    assert.deepEqual(b.check(), { open: false });
    assert.equal(b.state().consecutiveFailures, 2);
    assert.equal(b.state().state, 'closed');
  });

  it('opens after N consecutive failures and fails fast with a message', () => {
    const c = clock();
    const b = new CircuitBreaker({ name: 'openai', failureThreshold: 3, coolDownMs: 30_000, now: c.now });
    for (let i = 0; i < 3; i++) b.failure(new ProviderError('HTTP 500 from openai', true, 500));
    const r = b.check();
    assert.equal(r.open, true);
    if (!r.open) return;
    assert.equal(r.retryAt, c.now() + 30_000);
    assert.equal(r.message, `provider 'openai' failed 3 times in a row; not calling it until ${hhmmss(r.retryAt)} (circuit open); last error: HTTP 500 from openai`);
    assert.deepEqual(b.state(), { state: 'open', consecutiveFailures: 3, openedAt: c.now(), retryAt: c.now() + 30_000, lastError: 'HTTP 500 from openai' });
  });

  it('stays open during the cool-down', () => {
    const c = clock();
    const b = new CircuitBreaker({ failureThreshold: 2, coolDownMs: 10_000, now: c.now });
    b.failure('x');
    b.failure('x');
    c.advance(9_999);
    assert.equal(b.check().open, true);
  });

  it('after the cool-down lets one trial through (half-open); success closes', () => {
    const c = clock();
    const b = new CircuitBreaker({ failureThreshold: 2, coolDownMs: 10_000, now: c.now });
    b.failure('x');
    b.failure('x');
    c.advance(10_000);
    assert.equal(b.state().state, 'half-open');
    assert.deepEqual(b.check(), { open: false }, 'the trial call');
    const second = b.check();
    assert.equal(second.open, true, 'only one trial at a time');
    if (second.open) assert.match(second.message, /circuit half-open/);
    b.success();
    assert.deepEqual(b.state(), { state: 'closed', consecutiveFailures: 0 });
    assert.deepEqual(b.check(), { open: false });
  });

  it('a failed trial re-opens for another cool-down', () => {
    const c = clock();
    const b = new CircuitBreaker({ failureThreshold: 2, coolDownMs: 10_000, now: c.now });
    b.failure('x');
    b.failure('x');
    c.advance(10_000);
    assert.equal(b.check().open, false);
    b.failure(new Error('still down'));
    const r = b.check();
    assert.equal(r.open, true);
    if (r.open) {
      assert.equal(r.retryAt, c.now() + 10_000);
      assert.match(r.message, /failed 3 times in a row; not calling it until \d\d:\d\d:\d\d \(circuit open\); last error: still down/);
    }
    c.advance(10_000);
    assert.equal(b.check().open, false);
  });

  it('cancellations do not count, and a cancelled trial frees the slot', () => {
    const c = clock();
    const b = new CircuitBreaker({ failureThreshold: 1, coolDownMs: 1000, now: c.now });
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    b.failure(abort);
    b.failure(new ProviderError("provider 'x': run cancelled", false));
    assert.deepEqual(b.state(), { state: 'closed', consecutiveFailures: 0 });
    b.failure(new Error('down'));
    c.advance(1000);
    assert.equal(b.check().open, false);
    b.failure(abort);
    assert.equal(b.check().open, false, 'another trial may run');
  });
});

describe('BreakerRegistry', () => {
  it('keeps one breaker per provider name', () => {
    const c = clock();
    const reg = new BreakerRegistry({ failureThreshold: 2, coolDownMs: 5000, now: c.now });
    assert.equal(reg.get('openai'), reg.get('openai'));
    reg.failure('openai', new Error('a'));
    reg.failure('openai', new Error('b'));
    reg.failure('codex', new Error('c'));
    const r = reg.check('openai');
    assert.equal(r.open, true);
    if (r.open) assert.match(r.message, /^provider 'openai' failed 2 times/);
    assert.deepEqual(reg.check('codex'), { open: false });
    assert.deepEqual(
      Object.fromEntries(Object.entries(reg.states()).map(([k, v]) => [k, v.state])),
      { openai: 'open', codex: 'closed' },
    );
    reg.success('codex');
    assert.equal(reg.states().codex.consecutiveFailures, 0);
    reg.reset('openai');
    assert.deepEqual(reg.check('openai'), { open: false });
    reg.reset();
    assert.deepEqual(reg.states(), {});
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cappedMessage, MAX_MESSAGE_LENGTH, problem } from '../../server/src/workflow/problems';
import { validateWorkflow } from '../../server/src/workflow/validate';

describe('cappedMessage', () => {
  it('is exactly the message problem() keeps for the joined parts, for any lengths', () => {
    let seed = 3;
    const r = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const lengths = [0, 1, 189, 190, 191, 799, 800, 801, 999, 1000, 1001, 5000];
    for (let k = 0; k < 2_000; k++) {
      const parts = Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => {
        const n = r() < 0.5 ? lengths[Math.floor(r() * lengths.length)] : Math.floor(r() * 1500);
        return String.fromCharCode(97 + i).repeat(n);
      });
      assert.equal(cappedMessage(parts), problem('schema', { start: 0, end: 0 }, parts.join('')).message, JSON.stringify(parts.map((p) => p.length)));
    }
  });

  it('thousands of unknown inputs among thousands declared: each message lists the inputs, capped', () => {
    const n = 3_000;
    const inputs = Array.from({ length: n }, (_, i) => `  in_${i}: { default: x }\n`).join('');
    const steps = Array.from({ length: n }, (_, i) => `  - id: s${i}\n    run: echo \${{ inputs.zz_${i}_qqqqqqqqqq }}\n`).join('');
    const ps = validateWorkflow(`name: i\ninputs:\n${inputs}steps:\n${steps}`).problems.filter((p) => p.code === 'unknown-input');
    assert.equal(ps.length, n);
    for (const p of [ps[0], ps[n - 1]]) {
      assert.ok(p.message.length <= MAX_MESSAGE_LENGTH);
      assert.match(p.message, /^input 'zz_\d+_q+' is not declared under 'inputs'\. Declared inputs: in_0, in_1, .* … .*in_2998, in_2999\.$/);
    }
  });
});

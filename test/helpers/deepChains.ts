/**
 * Run by test/unit/validationLimits.test.ts with a small stack (--stack-size): long `needs`
 * chains through validation (open and an edit, with the chunk cache), plan and graph layout.
 * Prints "ok N shapes", or what failed, and exits non-zero.
 */
import { ChunkCache } from '../../server/src/workflow/chunked';
import { graphOfPlan } from '../../server/src/workflow/graph';
import { compileWorkflow, planWorkflow } from '../../server/src/workflow/plan';
import { validateWorkflow } from '../../server/src/workflow/validate';

const shapes: Record<string, (n: number) => string> = {
  'each step needs the next': (n) => `name: c\nsteps:\n${Array.from({ length: n }, (_, i) => `  - id: s${i}\n${i < n - 1 ? `    needs: s${i + 1}\n` : ''}    run: echo\n`).join('')}`,
  'each step needs the previous and reads the first': (n) => `name: c\nsteps:\n${Array.from({ length: n }, (_, i) => `  - id: s${i}\n${i ? `    needs: s${i - 1}\n` : ''}    run: echo ${i ? '${{ steps.s0.outputs.x }}' : ''}\n`).join('')}`,
  'a pipeline of single-step stages': (n) => `name: c\npipeline:\n${Array.from({ length: n }, (_, i) => `  - stage: s${i}\n    run: echo\n`).join('')}`,
  'a chain after a step whose if is false': (n) => `name: c\nsteps:\n${Array.from({ length: n }, (_, i) => `  - id: s${i}\n${i ? `    needs: s${i - 1}\n` : '    if: false\n'}    run: echo\n`).join('')}`,
};

const failures: string[] = [];
let count = 0;
for (const n of [5_000, 20_000]) {
  for (const [name, make] of Object.entries(shapes)) {
    count++;
    const what = `${name} (${n} steps)`;
    try {
      const text = make(n);
      const cache = new ChunkCache();
      validateWorkflow(text, { cache });
      const v = validateWorkflow(text.replace('run: echo', 'run: echo edited'), { cache });
      for (const e of v.internalErrors) failures.push(`${what}: internal error in '${e.check}': ${String(e.error)}`);
      if (v.problems.some((p) => p.severity === 'error')) {
        failures.push(`${what}: unexpected errors ${v.problems.slice(0, 3).map((p) => p.message).join('; ')}`);
        continue;
      }
      const plan = planWorkflow(compileWorkflow(v));
      if (plan.levels.length !== n) failures.push(`${what}: ${plan.levels.length} levels`);
      const g = graphOfPlan(plan);
      if (g.nodes.length !== n) failures.push(`${what}: ${g.nodes.length} nodes laid out`);
    } catch (e) {
      failures.push(`${what}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
}
if (failures.length) {
  console.log(failures.join('\n'));
  process.exit(1);
}
console.log(`ok ${count} shapes`);

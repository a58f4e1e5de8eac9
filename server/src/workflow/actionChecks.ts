/**
 * `uses:` names a built-in action and `with:` gives it the arguments it takes (the table in
 * actions.ts, which the engine runs from): an unknown action is `unknown-action` at the value
 * (with a did-you-mean and the list), a missing required argument is `schema`, and an argument
 * the action does not take is `unknown-argument` (a warning, as GitHub Actions warns of
 * unexpected inputs).
 */
import { ACTION_NAMES, actionList, findAction, findArg } from './actions';
import type { StepGraph } from './compile';
import { problem, type Problem } from './problems';
import { didYouMean } from './suggest';
import { get, pairOf } from './yamlTree';

export function checkActions(graph: StepGraph, out: Problem[]): void {
  for (const s of graph.steps) {
    const uses = get(s.node, 'uses');
    if (!uses || uses.kind !== 'scalar' || typeof uses.value !== 'string') continue;
    const name = uses.value;
    const action = findAction(name);
    if (!action) {
      const hint = didYouMean(name, ACTION_NAMES);
      out.push(problem('unknown-action', uses, `unknown action '${name}'.${hint} The built-in actions are ${actionList()}; anything else fails when the step runs`));
      continue;
    }
    const withPair = pairOf(s.node, 'with');
    const args = withPair?.value;
    const given = new Set<string>();
    if (args && args.kind === 'map') {
      for (const p of args.pairs) {
        const key = String(p.key.value);
        const arg = findArg(action, key);
        if (arg) {
          given.add(arg.name);
          if (p.value && p.value.kind !== 'scalar' && !(arg.type === 'list' && p.value.kind === 'seq')) out.push(problem('schema', p.value, `'${key}' of ${action.name} is a ${arg.type}, not a ${p.value.kind === 'map' ? 'map' : 'list'}`));
          continue;
        }
        const names = action.with.map((a) => a.name);
        const takes = names.length ? ` It takes: ${names.join(', ')}.` : ' It takes no arguments.';
        out.push(problem('unknown-argument', p.key, `${action.name} has no argument '${key}': it is ignored.${didYouMean(key, names)}${takes}`));
      }
    }
    const missing = action.with.filter((a) => a.required && !given.has(a.name));
    if (missing.length) {
      const at = withPair && args && args.kind === 'map' ? withPair.key : uses;
      const list = missing.map((a) => `${a.name} (${a.description})`).join('; ');
      out.push(problem('schema', at, `${action.name} needs with: { ${missing.map((a) => `${a.name}: …`).join(', ')} }: ${list}`));
    }
  }
}

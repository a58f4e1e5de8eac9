/**
 * Semantic checks on the step graph: duplicate ids, step kinds, unknown needs and agents,
 * dependency cycles, and steps that can never run.
 */
import type { StepGraph, StepSource } from './compile';
import { problem, type Problem } from './problems';
import { didYouMean } from './suggest';
import { get, pairOf, type YNode, type YScalar } from './yamlTree';

export const STEP_KINDS = ['run', 'agent', 'uses', 'approval'] as const;

export function checkIds(graph: StepGraph, out: Problem[]): void {
  const first = new Map<string, StepSource>();
  for (const s of graph.steps) {
    if (!s.id || !s.idNode) continue;
    const prev = first.get(s.id);
    if (prev && prev.idNode) {
      out.push(problem('duplicate-id', s.idNode, `duplicate step id '${s.id}': it is already used by an earlier step; step ids must be unique, so rename one`));
    } else first.set(s.id, s);
  }
  // A stage name that also names a step elsewhere makes `needs: <name>` ambiguous.
  for (const st of graph.stages) {
    if (!st.parallel || !st.name || !st.nameNode) continue;
    if (first.has(st.name)) out.push(problem('duplicate-id', st.nameNode, `stage '${st.name}' has the same name as a step: rename one, so that needs: ${st.name} is not ambiguous`));
  }
}

export function checkStepKinds(graph: StepGraph, out: Problem[]): void {
  for (const s of graph.steps) {
    const present = STEP_KINDS.filter((k) => pairOf(s.node, k));
    const label = s.id ? `step '${s.id}'` : 'this step';
    if (present.length === 0) {
      const at = s.idNode ?? s.node.pairs[0]?.key ?? { start: s.node.start, end: s.node.start + 1 };
      out.push(problem('step-kind', at, `${label} does nothing: give it exactly one of run, agent (with prompt), uses or approval`));
    } else if (present.length > 1) {
      for (const k of present.slice(1)) {
        const pair = pairOf(s.node, k);
        if (pair) out.push(problem('step-kind', pair.key, `${label} has both '${present[0]}' and '${k}': a step has exactly one of run, agent, uses, approval; split it into two steps`));
      }
    }
    // Keys that only make sense with one kind.
    const agent = pairOf(s.node, 'agent');
    const prompt = pairOf(s.node, 'prompt');
    if (agent && !prompt && present.length === 1) out.push(problem('schema', agent.key, `${label} calls agent but has no 'prompt': add prompt: with what to ask`));
    if (prompt && !agent) out.push(problem('schema', prompt.key, `'prompt' is only for agent steps: add agent: <name>, or remove prompt`));
    const model = pairOf(s.node, 'model');
    if (model && !agent) out.push(problem('schema', model.key, `'model' is only for agent steps: add agent: <name>, or remove model`));
    const w = pairOf(s.node, 'with');
    if (w && !pairOf(s.node, 'uses')) out.push(problem('schema', w.key, `'with' gives arguments to 'uses': add uses: <action>, or remove with`));
  }
  for (const st of graph.stages) {
    if (!st.parallel) continue;
    for (const p of st.node.pairs) {
      const k = String(p.key.value);
      if (k !== 'stage' && k !== 'parallel' && k !== 'needs' && k !== 'name') {
        out.push(problem('schema', p.key, `a stage with 'parallel' takes only stage, name, needs and parallel: move '${k}' into its items`));
      }
    }
  }
}

export function checkNeeds(graph: StepGraph, out: Problem[]): void {
  const ids = new Set(graph.steps.map((s) => s.id).filter((x): x is string => !!x));
  const names = new Set([...ids, ...graph.stages.map((s) => s.name).filter((x): x is string => !!x)]);
  for (const s of graph.steps) {
    for (const n of s.needs) {
      if (n.implicit || ids.has(n.id)) continue;
      out.push(problem('unknown-need', n.node, `'${n.id}' is not a step of this workflow.${didYouMean(n.id, names) || ' Check the spelling, or add that step.'}`));
    }
  }
}

/** At most 20 names, then how many more: a message stays short however many there are. */
export function namesList(names: readonly string[]): string {
  return names.length > 20 ? `${names.slice(0, 20).join(', ')}, … (${names.length - 20} more)` : names.join(', ');
}

export function checkAgents(root: YNode | null, graph: StepGraph, out: Problem[]): void {
  const agentsNode = get(root, 'agents');
  const agents = agentsNode && agentsNode.kind === 'map' ? agentsNode.pairs.map((p) => String(p.key.value)) : [];
  const declared = new Set(agents);
  const arbiter = get(get(root, 'negotiate'), 'agent');
  if (arbiter && arbiter.kind === 'scalar' && typeof arbiter.value === 'string' && !declared.has(arbiter.value)) {
    out.push(problem('unknown-agent', arbiter, `the arbiter agent '${arbiter.value}' is not declared under 'agents'.${didYouMean(arbiter.value, agents) || ' Declare it under agents: at the top level.'}`));
  }
  for (const s of graph.steps) {
    const a = get(s.node, 'agent');
    if (!a || a.kind !== 'scalar' || typeof a.value !== 'string') continue;
    if (declared.has(a.value)) continue;
    const hint = didYouMean(a.value, agents) || (agents.length ? ` Declared agents: ${namesList(agents)}.` : ' Declare it under agents: at the top level.');
    out.push(problem('unknown-agent', a, `agent '${a.value}' is not declared under 'agents'.${hint}`));
  }
}

/** Tarjan's strongly connected components, iteratively (deep chains must not overflow the stack). */
function stronglyConnected(nodes: string[], edges: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  let counter = 0;
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const frame = work[work.length - 1];
      const next = edges.get(frame.v) ?? [];
      if (frame.i < next.length) {
        const w = next[frame.i++];
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(frame.v, Math.min(low.get(frame.v)!, index.get(w)!));
      } else {
        work.pop();
        if (work.length) {
          const parent = work[work.length - 1].v;
          low.set(parent, Math.min(low.get(parent)!, low.get(frame.v)!));
        }
        if (low.get(frame.v) === index.get(frame.v)) {
          const comp: string[] = [];
          let w: string;
          do {
            w = stack.pop()!;
            onStack.delete(w);
            comp.push(w);
          } while (w !== frame.v);
          result.push(comp);
        }
      }
    }
  }
  return result;
}

/**
 * A cycle of at most this many steps is reported on each of its steps (with the cycle as seen from
 * that step); a longer one once, at its first step in the file: reporting a 10,000-step cycle on
 * each step would be quadratic work and output.
 */
export const CYCLE_EACH_STEP_MAX = 50;

export function checkCycles(graph: StepGraph, out: Problem[]): void {
  const byId = new Map<string, StepSource>();
  for (const s of graph.steps) if (s.id && !byId.has(s.id)) byId.set(s.id, s);
  const edges = new Map<string, string[]>();
  for (const [id, s] of byId) edges.set(id, [...new Set(s.needs.map((n) => n.id).filter((n) => byId.has(n)))]);
  const fileOrder = new Map([...byId.keys()].map((id, i) => [id, i]));
  for (const comp of stronglyConnected([...byId.keys()], edges)) {
    if (comp.length === 1 && !(edges.get(comp[0]) ?? []).includes(comp[0])) continue;
    const inComp = new Set(comp);
    // Each step's own shortest cycle costs a search of the component per step: only for small ones.
    const from = comp.length <= CYCLE_EACH_STEP_MAX ? comp : [comp.reduce((a, b) => (fileOrder.get(a)! <= fileOrder.get(b)! ? a : b))];
    for (const v of from) {
      const path = shortestCycle(v, edges, inComp);
      if (!path) continue;
      const need = byId.get(v)!.needs.find((n) => n.id === path[1]);
      const at: YScalar | undefined = need?.node ?? byId.get(v)!.idNode;
      if (!at) continue;
      out.push(problem('dependency-cycle', at, cycleMessage(path, comp.length, from.length === 1 && comp.length > 1)));
    }
  }
}

/** The message for a cycle path [a, b, …, a]: long paths are shortened to their ends. */
function cycleMessage(path: readonly string[], componentSize: number, once: boolean): string {
  const steps = path.length - 1;
  const cycle = path.length > 12 ? `${path.slice(0, 5).join(' → ')} → … (${path.length - 9} more) → ${path.slice(-4).join(' → ')}` : path.join(' → ');
  if (!once || componentSize <= CYCLE_EACH_STEP_MAX) return `dependency cycle: ${cycle} (each step needs the next, so none can start): remove one of these needs`;
  const others = componentSize > steps ? `; ${componentSize} steps in all depend on each other through cycles` : '';
  return `dependency cycle of ${steps} steps: ${cycle} (each step needs the next, so none can start${others}; reported once, here, not on each step): remove one of these needs`;
}

function shortestCycle(v: string, edges: Map<string, string[]>, allowed: Set<string>): string[] | undefined {
  const prev = new Map<string, string>();
  const queue = [v];
  for (let qi = 0; qi < queue.length; qi++) {
    const u = queue[qi];
    for (const w of edges.get(u) ?? []) {
      if (!allowed.has(w)) continue;
      if (w === v) {
        const path = [v];
        for (let x = u; x !== v; x = prev.get(x)!) path.push(x);
        const chain = [v, ...path.slice(1).reverse()];
        return [...chain, v];
      }
      if (!prev.has(w)) {
        prev.set(w, u);
        queue.push(w);
      }
    }
  }
  return undefined;
}

/**
 * Steps that can never run: a step whose condition is only the implicit (or explicit) success()
 * and that needs a step whose `if` is literally false, or a step that itself can never run.
 * `constantFalse` and `relaxes` tell, per step, whether its `if` is constant-false and whether it
 * uses always() or failure() (which lets it run after a skipped need).
 */
export function checkUnreachable(
  graph: StepGraph,
  constantFalse: (s: StepSource) => boolean,
  relaxes: (s: StepSource) => boolean,
  out: Problem[],
): void {
  const byId = new Map<string, StepSource>();
  for (const s of graph.steps) if (s.id && !byId.has(s.id)) byId.set(s.id, s);
  // Kahn's order over needs; steps on a cycle are never ordered and count as "may run".
  const pending = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [id, s] of byId) {
    const needs = [...new Set(s.needs.map((n) => n.id).filter((n) => byId.has(n) && n !== id))];
    pending.set(id, needs.length);
    for (const n of needs) {
      const list = dependents.get(n);
      if (list) list.push(id);
      else dependents.set(n, [id]);
    }
  }
  const order = [...pending].filter(([, n]) => n === 0).map(([id]) => id);
  for (let i = 0; i < order.length; i++) {
    for (const d of dependents.get(order[i]) ?? []) {
      const left = pending.get(d)! - 1;
      pending.set(d, left);
      if (left === 0) order.push(d);
    }
  }
  const never = new Set<string>();
  const skipped = (id: string): boolean => never.has(id) || constantFalse(byId.get(id)!);
  for (const id of order) {
    const s = byId.get(id)!;
    if (constantFalse(s) || relaxes(s)) continue;
    const culprit = s.needs.find((n) => byId.has(n.id) && n.id !== id && skipped(n.id));
    if (!culprit) continue;
    never.add(id);
    const why = constantFalse(byId.get(culprit.id)!) ? `whose 'if' is always false` : 'which can never run';
    out.push(problem('unreachable', culprit.node, `step '${id}' can never run: it needs '${culprit.id}', ${why}. Add if: always() to run it anyway, or remove the need`));
  }
}

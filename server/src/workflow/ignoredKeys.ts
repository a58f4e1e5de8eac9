/**
 * `ignored-key` (warning): a key that the step's kind does not use, so it does nothing where it
 * is written — `workspace:` on an approval or a built-in action, `budget:` on a step that calls
 * no agent... The schema accepts these keys on every step (a step's kind is a cross-field fact),
 * so without this check the user would believe a step isolated or bounded when it is not. One
 * table says which kinds use which key; each message says why the key does nothing and what to
 * do. (`verify` and `changes` where they cannot run are errors: verifyChecks.ts.)
 */
import type { StepGraph, StepSource } from './compile';
import { STEP_KINDS } from './graphChecks';
import { problem, type Problem } from './problems';
import { get, pairOf } from './yamlTree';

export type StepKindName = (typeof STEP_KINDS)[number];

/** The step's kind when it has exactly one (else step-kind reports it, and this check is silent). */
export function stepKindOf(s: StepSource): StepKindName | undefined {
  const present = STEP_KINDS.filter((k) => pairOf(s.node, k));
  return present.length === 1 ? present[0] : undefined;
}

/** The `uses:` value of a step, when it is a string. */
export function usesOf(s: StepSource): string | undefined {
  const u = get(s.node, 'uses');
  return u && u.kind === 'scalar' && typeof u.value === 'string' ? u.value : undefined;
}

interface KeyUse {
  readonly key: string;
  readonly usedBy: readonly StepKindName[];
  /** Why the key does nothing on a step of this kind, and what to do instead. */
  readonly why: (kind: StepKindName, uses: string | undefined) => string;
}

const WORKSPACE_OF_ACTION: Record<string, string> = {
  'git/merge': 'git/merge always merges in a worktree of its own',
  'git/apply': "git/apply works on your repository's own working tree (that is its purpose)",
};

const KEYS: readonly KeyUse[] = [
  {
    key: 'workspace',
    usedBy: ['run', 'agent'],
    why: (kind, uses) =>
      kind === 'approval'
        ? 'an approval step runs nothing, so it needs no workspace: remove workspace'
        : `${WORKSPACE_OF_ACTION[uses ?? ''] ?? `${uses ?? 'a built-in action'} does not run in a workspace`}; only run and agent steps get one: remove workspace`,
  },
  {
    key: 'budget',
    usedBy: ['agent'],
    why: (kind) => `budget limits what agent calls spend, and ${kind === 'run' ? 'a run step' : kind === 'uses' ? 'a built-in action' : 'an approval step'} calls no agent: put it on the agent step (or under agents.<name>, or at the top level), or remove it`,
  },
  {
    key: 'context',
    usedBy: ['agent'],
    why: (kind) => `context adds files to an agent's prompt, and ${kind === 'run' ? 'a run step' : kind === 'uses' ? 'a built-in action' : 'an approval step'} has no prompt: remove it${kind === 'run' ? ' (the script can read the files itself)' : ''}`,
  },
  {
    key: 'findings',
    usedBy: ['run'],
    why: (kind, uses) =>
      kind === 'agent'
        ? "findings is read only after run steps; an agent reports findings in a fenced findings block of its answer: remove it, or import the file with a findings/sarif step that needs this one"
        : uses === 'findings/sarif'
          ? 'findings/sarif takes its file as with: { file: … }: move the path there'
          : `findings is read only after run steps: import the file with a findings/sarif step, or remove it`,
  },
];

export function checkIgnoredKeys(graph: StepGraph, out: Problem[]): void {
  for (const s of graph.steps) {
    const kind = stepKindOf(s);
    if (!kind) continue;
    for (const k of KEYS) {
      const pair = pairOf(s.node, k.key);
      if (pair && !k.usedBy.includes(kind)) out.push(problem('ignored-key', pair.key, `'${k.key}' is ignored on this step: ${k.why(kind, usesOf(s))}`));
    }
  }
}

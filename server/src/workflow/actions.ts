/**
 * The built-in actions (`uses:`), as one declarative table: the engine runs them from it
 * (engine/actions.ts, one implementation per name, checked by the compiler), `validate` checks
 * `uses`/`with` against it (actionChecks.ts), and the editor completes and explains them from it.
 */

/** `list`: a YAML list of strings (or one string, names separated by commas or spaces). */
export type ActionArgType = 'string' | 'number' | 'boolean' | 'list';

export interface ActionArg {
  readonly name: string;
  readonly type: ActionArgType;
  readonly required: boolean;
  readonly description: string;
  /** Other names accepted for this argument (kept for files written before the table existed). */
  readonly aliases?: readonly string[];
}

export interface ActionOutput {
  readonly name: string;
  readonly description: string;
}

export interface ActionDef {
  readonly name: string;
  readonly description: string;
  readonly with: readonly ActionArg[];
  readonly outputs: readonly ActionOutput[];
}

export const BUILT_IN_ACTIONS = [
  {
    name: 'findings/sarif',
    description:
      'Imports a SARIF 2.1.0 (or findings-JSON) file written by an earlier step or a tool: its results become findings of this step. A missing file fails the step.',
    with: [
      {
        name: 'file',
        type: 'string',
        required: true,
        description: "Path of the SARIF or findings-JSON file, relative to the step's working directory (default the repository root). May use `${{ }}` expressions.",
        aliases: ['path'],
      },
    ],
    outputs: [{ name: 'count', description: 'How many findings the file held.' }],
  },
  {
    name: 'findings/merge',
    description:
      "A join point for findings: the session's findings are always merged (the same place reported twice is one finding, disagreements settled by `negotiate`), so this action does nothing itself; use it to name the step that waits for every reviewer.",
    with: [],
    outputs: [],
  },
  {
    name: 'git/merge',
    description:
      "Merges the commits of worktree steps (`workspace: worktree`) one after another, in a worktree of its own on branch `orchestrator/<session>/<step>` that starts at the first one's commit. A conflict fails the step with one `merge-conflict` finding per conflicted file (at its first conflict marker) and keeps the conflicted worktree for inspection. With `verify:`, the check runs once in the merged worktree, and a failing check fails the step (`verification failed: …`).",
    with: [{ name: 'from', type: 'list', required: true, description: 'The steps whose commits are merged, in this order, e.g. `[backend, frontend]`.' }],
    outputs: [
      { name: 'commit', description: 'The merged commit.' },
      { name: 'branch', description: 'Its branch, `orchestrator/<session>/<step>`.' },
      { name: 'base', description: "The session's base commit." },
      { name: 'changed_files', description: 'Files changed from the base to the merged commit, one per line.' },
      { name: 'diffstat', description: 'The `git diff --shortstat` line of that change.' },
      { name: 'conflicts', description: 'On a conflict: the conflicted files, one per line.' },
    ],
  },
  {
    name: 'git/apply',
    description:
      "Brings a step's commit into your repository: `ff` fast-forwards the current branch to it, `merge` merges it into the current branch, `uncommitted` applies its change to the working tree only. Refuses, changing nothing, when your uncommitted changes touch a file it changes, when `ff` cannot fast-forward, when `merge` would conflict, or when the change does not apply. Usually behind an `approval`.",
    with: [
      { name: 'from', type: 'string', required: true, description: 'The step whose commit to bring in (a worktree step or `git/merge`).' },
      { name: 'mode', type: 'string', required: false, description: '`ff` (default), `merge` or `uncommitted`.' },
    ],
    outputs: [
      { name: 'mode', description: 'The mode used.' },
      { name: 'commit', description: 'HEAD afterwards.' },
      { name: 'changed_files', description: 'The files the change brought, one per line.' },
    ],
  },
] as const satisfies readonly ActionDef[];

export type ActionName = (typeof BUILT_IN_ACTIONS)[number]['name'];

export const ACTION_NAMES: readonly ActionName[] = BUILT_IN_ACTIONS.map((a) => a.name);

export function findAction(name: string): ActionDef | undefined {
  return (BUILT_IN_ACTIONS as readonly ActionDef[]).find((a) => a.name === name);
}

/** The argument `key` of an action (by name or alias). */
export function findArg(action: ActionDef, key: string): ActionArg | undefined {
  return action.with.find((a) => a.name === key || (a.aliases ?? []).includes(key));
}

/** The built-in actions as one line, for messages: `findings/sarif, findings/merge, ...`. */
export function actionList(): string {
  return ACTION_NAMES.join(', ');
}

/** An action and its arguments in Markdown, for hover and completion. */
export function describeAction(a: ActionDef): string {
  const lines = [`**${a.name}** (built-in action)`, '', a.description];
  if (a.with.length) {
    lines.push('', '`with:`');
    for (const w of a.with) lines.push(`- \`${w.name}\` (${w.type}${w.required ? ', required' : ''}): ${w.description}`);
  } else lines.push('', 'Takes no `with:` arguments.');
  if (a.outputs.length) {
    lines.push('', 'Outputs:');
    for (const o of a.outputs) lines.push(`- \`${o.name}\`: ${o.description}`);
  }
  return lines.join('\n');
}

/** One argument in Markdown. */
export function describeArg(a: ActionDef, w: ActionArg): string {
  return `**${w.name}** (${w.type}${w.required ? ', required' : ''}) — argument of \`${a.name}\`\n\n${w.description}`;
}

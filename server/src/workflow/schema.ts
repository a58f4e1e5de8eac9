/**
 * The workflow file format (workflow-format.md, version 1) as one zod schema. It is the single
 * source for: structural validation (`schema` / `bad-duration` diagnostics), the JSON Schema in
 * schemas/workflow.schema.json, hover text and key completion in the editor.
 *
 * Cross-field rules (exactly one step kind, needs, cycles, expressions...) are semantic checks in
 * checks.ts: they need positions and the whole graph, which a schema cannot express well.
 */
import { z } from 'zod';
import { BUILT_IN_ACTIONS } from './actions';
import { DURATION_PATTERN } from './durations';

export const STEP_ID_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*$';
export const NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*$';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const Duration = z
  .union([z.number().nonnegative(), z.string().regex(new RegExp(DURATION_PATTERN))])
  .meta({ description: 'A duration such as `500ms`, `30s`, `10m`, `2h` or `1h30m`; a bare number is seconds.' });

const EnvMap = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .meta({ description: 'Environment variables (name → value). Values may use `${{ }}` expressions.' });

export const Retry = z
  .strictObject({
    max_attempts: z.number().int().min(1).optional().meta({ description: 'How many attempts in all (1 = no retry). Default 1.' }),
    backoff: Duration.optional().meta({ description: 'Wait before the first retry (default `1s`).' }),
    factor: z.number().min(1).optional().meta({ description: 'Each further wait is the previous one times this factor (default 2).' }),
    max_backoff: Duration.optional().meta({ description: 'The longest wait between two attempts.' }),
  })
  .meta({ description: 'Retry policy: `{max_attempts, backoff, factor, max_backoff}`. Default: one attempt.' });

export const OnError = z.enum(['fail', 'continue']).meta({
  description: '`fail` (default): the session fails once running steps end. `continue`: dependents still run and the session can still succeed.',
});

export const Budget = z
  .strictObject({
    tokens: z.number().int().positive().optional().meta({ description: 'Most input + output tokens, as the provider reports them (output estimated from the streamed text until it does).' }),
    cost: z.number().positive().optional().meta({ description: 'Most US dollars, from `prices:` in .orchestrator/config.yaml (else the cost the tool reports).' }),
    turns: z.number().int().positive().optional().meta({ description: 'Most model turns (one per model call; an HTTP provider makes one).' }),
    time: Duration.optional().meta({ description: 'Most time spent in agent calls.' }),
  })
  .meta({ description: 'Spend limits of agent calls: `{tokens, cost, turns, time}`. Over one, the call is stopped at once and the step fails, not retried.' });
const VerifyCommands = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
export const Verify = z
  .union([
    VerifyCommands,
    z.strictObject({
      run: VerifyCommands.meta({ description: 'A shell command, or a list run in order (the first that fails stops the round).' }),
      attempts: z.number().int().min(1).optional().meta({ description: 'Agent steps: rounds in all, the first answer included (default 3).' }),
    }),
  ])
  .meta({
    description:
      "Evidence that the step did its work: a shell command or a list of them (or `{ run, attempts }`), run in the step's folder with its environment after it succeeds. An agent whose check fails is asked again with its previous answer and the check's output, up to `attempts` rounds in all (default 3); then the step fails, not retried. A `run` step fails at once; on `uses: git/merge` the check runs once in the merged worktree (other actions do not take it).",
  });
// Isolated git worktrees (docs/workflow-language.md, "Workspaces").
export const Workspace = z
  .union([
    z.enum(['shared', 'worktree']),
    z.strictObject({
      worktree: z.literal(true).meta({ description: 'Run in a git worktree of its own.' }),
      from: z.string().optional().meta({ description: "A step (upstream of this one) whose commit the worktree starts from, instead of the session's base commit." }),
    }),
  ])
  .meta({ description: "`shared` (default): the repository's own folder. `worktree`: a git worktree of its own on branch `orchestrator/<session>/<step>`, from the session's base commit (or `{ worktree: true, from: <step> }`: from that step's commit); what the step changed is committed there, and `outputs` get `commit`, `branch`, `base`, `changed_files`, `diffstat`." });

const stepKeys = {
  name: z.string().optional().meta({ description: 'Display name of the step.' }),
  needs: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .meta({ description: 'Step ids (or one id) that must succeed before this step runs (`if:` may relax this).' }),
  if: z
    .union([z.string(), z.boolean(), z.number()])
    .optional()
    .meta({ description: 'A condition. False → the step is `skipped`. Without a status function (`success()`, `failure()`, `always()`) it also requires every need to have succeeded, as in GitHub Actions.' }),
  run: z.string().optional().meta({ description: 'A shell script, run with `defaults.shell` (bash) in `working_directory`. Expressions reach it as environment variables, never pasted into the script text.' }),
  agent: z.string().optional().meta({ description: 'The agent (declared under `agents`) to call with `prompt`.' }),
  prompt: z.string().optional().meta({ description: 'The prompt sent to `agent`. May use `${{ }}` expressions.' }),
  model: z.string().optional().meta({ description: "Overrides the agent's model for this step." }),
  context: z
    .array(z.string())
    .optional()
    .meta({ description: "Files (relative to the repository root) whose contents are added to this step's prompt, after the agent's own `context`." }),
  uses: z
    .string()
    .optional()
    .meta({ description: `A built-in action: ${BUILT_IN_ACTIONS.map((a) => `\`${a.name}\` (${a.with.length ? `with: ${a.with.map((w) => w.name).join(', ')}` : 'no arguments'})`).join(', ')}.` }),
  approval: z.string().optional().meta({ description: 'A question for a person; the session waits (`waiting`) until it is approved or rejected in the editor or the CLI.' }),
  with: z.record(z.string(), z.unknown()).optional().meta({ description: 'Arguments for `uses`. Values, and the items of a list, may use `${{ }}` expressions.' }),
  env: EnvMap.optional(),
  timeout: Duration.optional().meta({ description: 'Time limit of one attempt; the whole process tree is killed when it expires.' }),
  stuck_after: Duration.optional().meta({ description: 'No output and no heartbeat for this long while running → the step is flagged stuck (it keeps running). Default 5m.' }),
  retry: Retry.optional(),
  on_error: OnError.optional(),
  budget: Budget.optional().meta({ description: "Agent steps: the step's spend limit, over all its attempts." }),
  findings: z.string().optional().meta({ description: 'Path of a SARIF 2.1.0 or findings-JSON file the step writes; its results become findings.' }),
  outputs: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .meta({ description: 'Outputs of the step: name → expression, evaluated after the step.' }),
  matrix: z
    .record(z.string(), z.array(scalar).min(1))
    .optional()
    .meta({ description: 'name → list of values: the step runs once per combination, with ids `step[name=value,...]`; dependents wait for all.' }),
  shell: z.string().optional().meta({ description: 'The shell that runs `run` (default bash).' }),
  working_directory: z.string().optional().meta({ description: 'Folder the step runs in, relative to the repository root (to the worktree with `workspace: worktree`).' }),
  workspace: Workspace.optional(),
  // Done needs evidence (engine/steps/verify.ts): checks run after the step's work.
  verify: Verify.optional(),
  changes: z
    .literal('required')
    .optional()
    .meta({ description: '`required`: the step fails ("claims done but changed nothing") when it changed no file. Needs a git repository; in a shared working tree, changes made meanwhile by parallel steps count too.' }),
};

export const Step = z
  .strictObject({
    id: z.string().regex(new RegExp(STEP_ID_PATTERN)).meta({ description: 'Unique id of the step: letters, digits, `_` and `-`, not starting with a digit or `-`.' }),
    ...stepKeys,
  })
  .meta({ description: 'A step: exactly one of `run`, `agent` (+ `prompt`), `uses`, `approval`.' });

export const Stage = z
  .strictObject({
    stage: z.string().regex(new RegExp(STEP_ID_PATTERN)).meta({ description: 'Name of the stage. A stage without `parallel` becomes one step whose id is this name.' }),
    parallel: z.array(Step).min(1).optional().meta({ description: 'Steps that run side by side; each needs the whole previous stage unless it states `needs`.' }),
    ...stepKeys,
  })
  .meta({ description: 'A stage of the pipeline: one step, or `parallel` steps. Each stage needs the whole previous stage unless it states `needs`.' });

export const Agent = z
  .strictObject({
    provider: z.string().meta({ description: 'A provider name: built-in (`command`, `openai`, `anthropic`, or a preset such as `claude-code`, `codex`, `gemini`, `opencode`, `aider`) or one from .orchestrator/config.yaml.' }),
    model: z.string().optional().meta({ description: 'Model passed to the provider; a step may override it with `model:`.' }),
    instructions: z.string().optional().meta({ description: 'System instructions: a path relative to the workflow file (e.g. `prompts/reviewer.md`) or inline text.' }),
    context: z
      .array(z.string())
      .optional()
      .meta({ description: 'Files (relative to the repository root, e.g. `AGENTS.md`, `README.md`) whose contents are added to every prompt of this agent.' }),
    budget: Budget.optional().meta({ description: "This agent's spend limit over all its steps in the session." }),
  })
  .meta({ description: 'An agent: a provider, a model and instructions.' });

export const Input = z
  .strictObject({
    description: z.string().optional().meta({ description: 'Shown when the value is asked for.' }),
    default: scalar.optional().meta({ description: 'Value used when none is given.' }),
    required: z.boolean().optional().meta({ description: 'Whether a value must be given (when there is no default).' }),
    type: z.enum(['string', 'number', 'boolean']).optional().meta({ description: '`string` (default), `number` or `boolean`.' }),
    enum: z.array(scalar).min(1).optional().meta({ description: 'The allowed values.' }),
  })
  .meta({ description: 'An input of the workflow, given at start (`--input k=v`, or a prompt in the editor).' });

export const Defaults = z
  .strictObject({
    timeout: stepKeys.timeout,
    stuck_after: stepKeys.stuck_after,
    retry: Retry.optional(),
    on_error: OnError.optional(),
    shell: stepKeys.shell,
    working_directory: stepKeys.working_directory,
    workspace: z.enum(['shared', 'worktree']).optional().meta({ description: '`shared` (default) or `worktree` for every shell and agent step.' }),
  })
  .meta({ description: 'Defaults for every step: `timeout`, `stuck_after`, `retry`, `on_error`, `shell`, `working_directory`, `workspace`.' });

export const Workflow = z
  .strictObject({
    version: z.literal(1).optional().meta({ description: 'Version of the workflow format. Only `1` exists.' }),
    name: z.string().meta({ description: 'Name of the workflow, shown in the sidebar.' }),
    description: z.string().optional().meta({ description: 'What the workflow does.' }),
    inputs: z
      .record(z.string().regex(new RegExp(NAME_PATTERN)), Input)
      .optional()
      .meta({ description: 'Values given at start: name → `{description, default, required, type, enum}`.' }),
    env: EnvMap.optional().meta({ description: 'Environment variables for every step.' }),
    agents: z
      .record(z.string().regex(new RegExp(NAME_PATTERN)), Agent)
      .optional()
      .meta({ description: 'The agents steps may name: name → `{provider, model, instructions}`.' }),
    defaults: Defaults.optional(),
    concurrency: z.number().int().min(1).optional().meta({ description: 'At most this many steps run at once (default: the number of CPUs).' }),
    negotiate: z
      .union([z.enum(['highest-severity', 'majority']), z.strictObject({ agent: z.string().meta({ description: 'The agent (under `agents`) that arbitrates.' }) })])
      .optional()
      .meta({
        description:
          'How findings on the same place that disagree (severity, or "fixed" / "false positive") are settled: `highest-severity` (default), `majority`, or `{ agent: name }` to ask an agent to arbitrate. Every opinion is kept with the decision and its reason.',
      }),
    allow_outside_repo: z
      .union([z.boolean(), z.array(z.string().min(1)).min(1)])
      .optional()
      .meta({
        description:
          'Lets the workflow read files outside the repository (agent `instructions` and `context`, `findings:`, the `file` of `findings/sarif`): `true` for any, or a list of files and folders (relative to the repository root, or absolute) allowed with what is under them. Without it such a read fails the step. Symlinks are resolved first: a link in the repository that points out counts as outside.',
      }),
    budget: Budget.optional().meta({ description: "The session's spend limit over all agent calls: once spent, no further agent call starts." }),
    deadline: Duration.optional().meta({ description: 'Limit for the whole session: on expiry running steps are cancelled and the session ends `timed_out`, keeping what finished.' }),
    steps: z.array(Step).optional().meta({ description: 'The steps: a DAG ordered by `needs`. Exactly one of `steps` or `pipeline`.' }),
    pipeline: z.array(Stage).min(1).optional().meta({ description: 'The staged form: stages run in order, `parallel` items side by side. Compiled to `steps`.' }),
  })
  .meta({ title: 'Synapse Orchestrator workflow', description: 'A workflow: a DAG of steps (shell commands, agent calls, built-in actions, approvals).' });

export type WorkflowFile = z.infer<typeof Workflow>;
export type StepDef = z.infer<typeof Step>;
export type StageDef = z.infer<typeof Stage>;
export type AgentDef = z.infer<typeof Agent>;
export type InputDef = z.infer<typeof Input>;
export type RetryDef = z.infer<typeof Retry>;
export type BudgetDef = z.infer<typeof Budget>;
export type VerifyDef = z.infer<typeof Verify>;

/** The JSON Schema published in schemas/workflow.schema.json. */
export function workflowJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Workflow, { target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://synapse-orchestrator.dev/schemas/workflow.schema.json' };
}

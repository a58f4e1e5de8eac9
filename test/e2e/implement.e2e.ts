/**
 * Issue 12, part 6, in a real VS Code (code-server + Chromium): the example pipeline
 * (.orchestrator/workflows/implement.yaml: plan → backend ∥ frontend in worktrees, checked by
 * verify: → git/merge → audit → approval → git/apply) run from the editor, with a fake
 * claude-code (a bash script speaking its stream-json, so usage and cost are reported) that
 * really edits files in its worktree. The live log shows the verify rounds, the step tooltip the
 * spend, the worktree steps their changed files, a click VS Code's diff of both commits; Approve
 * lands the change on the user's branch and leaves the user's own changes byte-identical. Then
 * Apply / Discard from the Sessions view on a small one-step workflow: a step's change as
 * uncommitted files, a step's branch dropped, a session's result fast-forwarded, a session with
 * two results asking which, a session's branches discarded, and a replay labelled as one.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startCodeServer, VSIX, type CodeServer } from './harness';

const EXAMPLE = path.join(REPO_ROOT, '.orchestrator', 'workflows', 'implement.yaml');
const CLI = path.join(REPO_ROOT, 'server', 'out', 'cli.js');
const ID = /(\d{8}-\d{6}-\w+)$/;

/**
 * The fake claude-code: reads the prompt on stdin, does its step's work in its folder (the step's
 * worktree) and answers in claude's stream-json with usage and cost. The backend's first round
 * leaves a TODO file, which the check (`test ! -e TODO`) fails; asked again, it waits for the
 * test's go-ahead (a file), then removes it.
 */
function agentScript(release: string): string {
  return `#!/usr/bin/env bash
prompt=$(cat)
say() {
  printf '{"type":"system","subtype":"init","model":"fake-claude"}\\n'
  printf '{"type":"assistant","message":{"id":"m1","model":"fake-claude","content":[{"type":"text","text":%s}],"usage":{"input_tokens":1200,"output_tokens":340}}}\\n' "$1"
  printf '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":%s,"total_cost_usd":0.0125,"usage":{"input_tokens":1200,"output_tokens":340}}\\n' "$1"
}
case "$ORCHESTRATOR_STEP_ID" in
  plan) say '"Plan: the backend adds server.js and turns health on in app.conf, the frontend adds web.js."' ;;
  backend)
    if [ -e TODO ]; then
      while [ ! -e '${release}' ]; do sleep 0.1; done
      rm TODO; say '"Removed the TODO."'
    else
      echo 'exports.health = () => "ok";' > server.js; echo 'health = on' >> app.conf; echo 'finish me' > TODO
      say '"backend done"'
    fi ;;
  frontend) echo '<p id="status"></p>' > web.js; say '"frontend done"' ;;
  audit) say '"Looks right.\\n\\n\`\`\`findings\\n[{\\"severity\\": \\"low\\", \\"message\\": \\"no test for health()\\", \\"file\\": \\"server.js\\", \\"line\\": 1, \\"rule\\": \\"untested\\"}]\\n\`\`\`\\n"' ;;
  *) echo "unexpected step $ORCHESTRATOR_STEP_ID: $prompt" >&2; exit 3 ;;
esac
`;
}

/** One worktree step that adds a file named after its session. */
const FEATURE = `name: Feature
steps:
  - id: make
    workspace: worktree
    run: echo "made by $ORCHESTRATOR_SESSION_ID" > "feature-$ORCHESTRATOR_SESSION_ID.txt"
`;
/** Two worktree steps, no merge: a session with two results. */
const PAIR = `name: Pair
steps:
  - id: left
    workspace: worktree
    run: echo left > "left-$ORCHESTRATOR_SESSION_ID.txt"
  - id: right
    workspace: worktree
    run: echo right > "right-$ORCHESTRATOR_SESSION_ID.txt"
`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'u', GIT_AUTHOR_EMAIL: 'u@u', GIT_COMMITTER_NAME: 'u', GIT_COMMITTER_EMAIL: 'u@u' } }).trimEnd();
}

/** A git repository with the example workflow, two small ones, the fake agent as both providers, and uncommitted work of the user's own. */
function makeRepo(): { root: string; release: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-e2e-implement-'));
  const release = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-e2e-release-')), 'backend-may-finish');
  git(root, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(root, 'README.md'), '# app\n');
  fs.writeFileSync(path.join(root, 'app.conf'), 'base = 0\n');
  const wf = path.join(root, '.orchestrator', 'workflows');
  fs.mkdirSync(wf, { recursive: true });
  fs.copyFileSync(EXAMPLE, path.join(wf, 'implement.yaml'));
  fs.writeFileSync(path.join(wf, 'feature.yaml'), FEATURE);
  fs.writeFileSync(path.join(wf, 'pair.yaml'), PAIR);
  fs.writeFileSync(path.join(root, '.orchestrator', '.gitignore'), 'sessions/\nsecrets/\nworktrees/\n');
  const agent = path.join(path.dirname(release), 'claude');
  fs.writeFileSync(agent, agentScript(release), { mode: 0o755 });
  const provider = `    type: claude-code\n    command: ${agent}\n`;
  fs.writeFileSync(path.join(root, '.orchestrator', 'config.yaml'), `providers:\n  implementer:\n${provider}  reviewer:\n${provider}`);
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'start');
  // The user's own work, not committed: it must come through byte for byte.
  fs.writeFileSync(path.join(root, 'README.md'), '# app\n\nmy notes, not committed\n');
  fs.writeFileSync(path.join(root, 'scratch.txt'), 'untracked\n');
  return { root, release };
}

const escapeRegExp = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function sessionIds(ws: string): string[] {
  const dir = path.join(ws, '.orchestrator', 'sessions');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => /^\d{8}-\d{6}-/.test(n)).sort() : [];
}

function cli(ws: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ws, encoding: 'utf8' });
  assert.equal(r.status, 0, `orchestrator ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface Shown {
  status: string;
  steps: Record<string, { status: string; outputs: Record<string, string> }>;
}
const show = (ws: string, id: string): Shown => JSON.parse(cli(ws, 'show', id, '--json')) as Shown;

/** Branches the session still has (`orchestrator/<id>/…`). */
const branchesOf = (ws: string, id: string): string[] => git(ws, 'branch', '--list', '--format=%(refname:short)', `orchestrator/${id}/*`).split('\n').filter(Boolean);

/** A session the CLI runs to its end (the editor sees it appear). */
function runFromCli(ws: string, file: string): string {
  const before = new Set(sessionIds(ws));
  cli(ws, 'run', file, '--quiet');
  const id = sessionIds(ws).find((s) => !before.has(s));
  assert.ok(id, 'a new session folder');
  return id;
}

/** Collapses an expanded tree row (its twistie), so that the rows of the next session are in view. */
async function collapse(vs: CodeServer, row: RegExp): Promise<void> {
  const r = await vs.treeRow(row, 'Sessions');
  if ((await r.getAttribute('aria-expanded')) !== 'true') return;
  await r.locator('.monaco-tl-twistie').first().click();
  await vs.waitFor(`the row ${String(row)} to collapse`, async () => (await r.getAttribute('aria-expanded')) === 'false');
}

describe('the example pipeline from the editor, and Apply / Discard in the Sessions view', () => {
  let vs: CodeServer;
  let ws: string;
  let release: string;
  let id = '';
  const userFiles = new Map<string, Buffer>();

  before(async () => {
    ({ root: ws, release } = makeRepo());
    for (const f of ['README.md', 'scratch.txt']) userFiles.set(f, fs.readFileSync(path.join(ws, f)));
    // Tooltips come after workbench.hover.delay: no need to wait the default 1.5 s for each.
    vs = await startCodeServer({ workspace: ws, vsix: VSIX, trust: true, settings: { 'workbench.hover.delay': 200 }, viewport: { width: 1400, height: 1300 } });
  });
  after(async () => {
    await vs?.stop();
    if (process.env.ORCH_E2E_KEEP !== '1') for (const d of [ws, path.dirname(release)]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('Start Orchestration runs implement.yaml; the backend\'s live log shows its verify rounds as they happen', async () => {
    const head = git(ws, 'rev-parse', 'HEAD');
    // The extension is up once its Sessions view says it has nothing (a palette opened earlier lists no command of it).
    await vs.openActivityBarView('Orchestrator');
    await vs.waitFor('the Sessions welcome text', async () => /No sessions yet/.test(await vs.viewText('Sessions')));
    await vs.runCommand('Orchestrator: Start Orchestration');
    await vs.quickPick(/implement\.yaml/);
    await vs.quickInputAnswer('Add a health check'); // task
    await vs.quickInputAnswer('test ! -e TODO'); // check: the backend's first round leaves a TODO
    await vs.openActivityBarView('Orchestrator');
    const row = await vs.waitForTreeRow('Sessions', /^Implement a change, running · /);
    id = ID.exec(row)![1];
    await vs.expandTreeRow(/^Implement a change, /, 'Sessions');
    // Round 1 failed and the agent is asked again (it waits for `release`): the log says so, live.
    await vs.waitForTreeRow('Sessions', /^backend, running/);
    await vs.clickTreeRow(/^backend, running/, 'Sessions');
    await vs.waitForActiveEditor(/backend/);
    await vs.waitFor('the live log of backend to show verify round 1 failing', async () => /\[verify\] round 1 of 3: .* exited 1/.test(await vs.editorText()));
    await vs.screenshot('20-implement-verify-round-1.png');
    fs.writeFileSync(release, '');
    await vs.waitFor('the same log to show round 2 passing', async () => /\[verify\] round 2 of 3: .* passed/.test(await vs.editorText()));
    await vs.screenshot('21-implement-verify-round-2.png');
    assert.equal(git(ws, 'rev-parse', 'HEAD'), head, 'nothing lands before the approval');
  });

  it('at the approval: the worktree steps list their changed files, the audit\'s finding shows, a click opens the diff of both commits', async () => {
    await vs.waitForNotification(/Implement a change asks: Land the merged change/, 120_000);
    await vs.openActivityBarView('Orchestrator');
    await vs.waitForTreeRow('Sessions', /^Implement a change, waiting · /);
    const s = show(ws, id);
    const { base, commit } = s.steps.backend.outputs;
    // Each worktree step (and the merge) lists the files it changed right under its row.
    for (const [step, files] of [['backend', ['app.conf', 'server.js']], ['frontend', ['web.js']], ['integrate', ['app.conf', 'server.js', 'web.js']]] as const) {
      await vs.expandTreeRow(new RegExp(`^${step}, succeeded`), 'Sessions');
      await vs.waitFor(`the rows under ${step} to be ${files.join(', ')}`, async () => {
        const rows = await vs.treeRows('Sessions');
        const at = rows.findIndex((r) => r.startsWith(`${step}, succeeded`));
        return at >= 0 && files.every((f, i) => rows[at + 1 + i] === f);
      });
    }
    // The auditor's finding is there to read before approving.
    await vs.waitForTreeRow('Findings', /^no test for health\(\), line 1 · untested · audit/);
    await vs.screenshot('22-implement-changes.png');

    await vs.clickTreeRow(/^app\.conf/, 'Sessions');
    const title = `app.conf (backend: ${base.slice(0, 7)} ↔ ${commit.slice(0, 7)})`;
    await vs.waitForActiveEditor(new RegExp(`^${escapeRegExp(title)}`));
    const sides = await vs.waitFor('the diff editor to show both sides of app.conf', async () => {
      const d = await vs.diffEditorText();
      return d && /base = 0/.test(d.original) && /health = on/.test(d.modified) ? d : undefined;
    });
    assert.doesNotMatch(sides.original, /health = on/);
    assert.match(sides.modified, /base = 0/);
    await vs.screenshot('23-implement-diff.png');
    for (const step of ['backend', 'frontend', 'integrate']) await collapse(vs, new RegExp(`^${step}, succeeded`));
  });

  it('Approve from the editor: the session succeeds, the change lands on main, the user\'s own changes are byte-identical; the tooltip shows the spend', async () => {
    const head = git(ws, 'rev-parse', 'HEAD');
    // From the approval step's menu in the Sessions view (the toast's button does the same: views.e2e.ts).
    await vs.contextMenu(/^approve, waiting/, 'Approve', 'Sessions');
    await vs.quickInputAnswer('ship it');
    await vs.openActivityBarView('Orchestrator');
    await vs.waitForTreeRow('Sessions', /^Implement a change, succeeded · 7\/7 done · /, 120_000);
    await vs.waitForTreeRow('Sessions', /^land, succeeded/);
    await vs.screenshot('24-implement-landed.png');
    // The backend's tooltip: what its agent calls spent over both verify rounds (claude's usage and cost).
    const tip = await vs.treeRowTooltip(/^backend, succeeded/, 'Sessions', /spent:/);
    assert.match(tip, /agent: implementer \/ fake-claude/);
    assert.match(tip, /spent: .*3,080 tokens.*\$0\.025/);
    await vs.screenshot('25-implement-tooltip.png');
    assert.equal(git(ws, 'rev-parse', '--abbrev-ref', 'HEAD'), 'main');
    assert.equal(git(ws, 'rev-parse', 'HEAD^1'), head, 'a merge commit on top of the user\'s HEAD');
    assert.equal(git(ws, 'show', 'HEAD:server.js'), 'exports.health = () => "ok";');
    assert.equal(git(ws, 'show', 'HEAD:app.conf'), 'base = 0\nhealth = on');
    assert.ok(fs.existsSync(path.join(ws, 'web.js')));
    assert.ok(!fs.existsSync(path.join(ws, 'TODO')));
    for (const [f, bytes] of userFiles) assert.ok(fs.readFileSync(path.join(ws, f)).equals(bytes), `${f} is byte-identical`);
    assert.deepEqual(git(ws, 'status', '--porcelain').split('\n').sort(), [' M README.md', '?? scratch.txt']);
    assert.equal(git(ws, 'worktree', 'list').split('\n').length, 1, 'no worktree left');
  });

  it('Discard Session\'s Branches… on the pipeline\'s row asks once, then every branch of its steps is gone', async () => {
    assert.deepEqual(branchesOf(ws, id).sort(), ['audit', 'backend', 'frontend', 'integrate'].map((s) => `orchestrator/${id}/${s}`));
    await vs.contextMenu(/^Implement a change, succeeded/, "Discard Session's Branches…", 'Sessions');
    const d = await vs.dialog();
    assert.match(d.text, new RegExp(`Discard the branches of session ${id}`));
    assert.match(d.text, /backend, frontend, integrate, audit/);
    await vs.clickDialogButton('Discard');
    await vs.waitFor('the session\'s branches to be deleted', () => branchesOf(ws, id).length === 0);
    await collapse(vs, /^Implement a change, /);
  });

  it('Apply Step\'s Changes… as uncommitted: the file is in the working tree, nothing committed', async () => {
    const head = git(ws, 'rev-parse', 'HEAD');
    const before = new Set(sessionIds(ws));
    await vs.runCommand('Orchestrator: Start Orchestration');
    await vs.quickPick(/feature\.yaml/);
    const feature = await vs.waitFor('the Feature session folder', () => sessionIds(ws).find((s) => !before.has(s)));
    const row = new RegExp(`^Feature, succeeded · 1/1 done · .* · ${feature}$`);
    await vs.waitForTreeRow('Sessions', row);
    await vs.expandTreeRow(row, 'Sessions');
    const step = await vs.waitForTreeRow('Sessions', /^make, succeeded/);
    assert.ok(step);
    await vs.contextMenu(/^make, succeeded/, "Apply Step's Changes…", 'Sessions');
    await vs.quickPick('uncommitted');
    await vs.waitForNotification(/make applied \(uncommitted\): 1 file\(s\) changed in your working tree/);
    await vs.screenshot('26-apply-uncommitted.png');
    assert.equal(fs.readFileSync(path.join(ws, `feature-${feature}.txt`), 'utf8'), `made by ${feature}\n`);
    assert.equal(git(ws, 'rev-parse', 'HEAD'), head, 'nothing committed');
    assert.ok(git(ws, 'status', '--porcelain').split('\n').includes(`?? feature-${feature}.txt`));
    await collapse(vs, row);
  });

  it('Discard Step\'s Branch… drops that step\'s branch', async () => {
    const other = runFromCli(ws, '.orchestrator/workflows/feature.yaml');
    const row = new RegExp(`^Feature, succeeded · .* · ${other}$`);
    await vs.waitForTreeRow('Sessions', row);
    await vs.expandTreeRow(row, 'Sessions');
    assert.deepEqual(branchesOf(ws, other), [`orchestrator/${other}/make`]);
    // The newest session is on top: its step row comes first.
    await vs.contextMenu(/^make, succeeded/, "Discard Step's Branch…", 'Sessions');
    const d = await vs.dialog();
    assert.match(d.text, /Discard the changes of make\?/);
    await vs.clickDialogButton('Discard');
    await vs.waitFor(`git branch to no longer list orchestrator/${other}/make`, () => branchesOf(ws, other).length === 0);
    assert.ok(!git(ws, 'branch', '--list').includes(other));
    // The host pushes the session's summary without the branch: the rows stop offering it.
    let items: string[] = [];
    await vs.waitFor("the step row's menu without Discard and Apply", async () => {
      await (await vs.treeRow(/^make, succeeded/, 'Sessions')).click({ button: 'right' });
      await vs.waitFor('its context menu', () => vs.page.locator('.monaco-menu').first().isVisible());
      items = await vs.menuItems();
      await vs.page.keyboard.press('Escape');
      return items.includes('Open Session Log') && !items.some((i) => /^(Discard|Apply) Step/.test(i));
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nlast menu: ${items.join(' | ')}`);
    });
  });

  it('Apply Session\'s Result… on a one-step session asks only how: fast-forward puts its commit on main', async () => {
    const third = runFromCli(ws, '.orchestrator/workflows/feature.yaml');
    const commit = show(ws, third).steps.make.outputs.commit;
    const row = new RegExp(`^Feature, succeeded · .* · ${third}$`);
    await vs.waitForTreeRow('Sessions', row);
    await vs.contextMenu(row, "Apply Session's Result…", 'Sessions');
    await vs.quickPick('ff');
    await vs.waitForNotification(/make applied \(ff\): 1 file\(s\) on main at /);
    assert.equal(git(ws, 'rev-parse', 'HEAD'), commit);
    assert.equal(git(ws, 'show', `HEAD:feature-${third}.txt`), `made by ${third}`);
    for (const [f, bytes] of userFiles) assert.ok(fs.readFileSync(path.join(ws, f)).equals(bytes), `${f} is byte-identical`);
  });

  it('Apply Session\'s Result… on a session with two results asks which step first', async () => {
    const pair = runFromCli(ws, '.orchestrator/workflows/pair.yaml');
    const row = new RegExp(`^Pair, succeeded · .* · ${pair}$`);
    await vs.waitForTreeRow('Sessions', row);
    await vs.contextMenu(row, "Apply Session's Result…", 'Sessions');
    const asked = await vs.waitFor('the question which step', async () => {
      const q = await vs.quickInputState();
      return q.visible && /which step/i.test(q.title) ? q : undefined;
    });
    assert.ok(asked.rows.some((r) => /left/.test(r)) && asked.rows.some((r) => /right/.test(r)), asked.rows.join(' | '));
    await vs.screenshot('27-apply-session-which-step.png');
    await vs.quickPick(/right/);
    await vs.quickPick('uncommitted');
    await vs.waitForNotification(/right applied \(uncommitted\)/);
    assert.equal(fs.readFileSync(path.join(ws, `right-${pair}.txt`), 'utf8'), 'right\n');
    assert.ok(!fs.existsSync(path.join(ws, `left-${pair}.txt`)));
  });

  it('a replay is labelled as one in the Sessions view', async () => {
    const source = sessionIds(ws).find((s) => show(ws, s).steps.make);
    assert.ok(source);
    const before = new Set(sessionIds(ws));
    cli(ws, 'replay', source);
    const replay = sessionIds(ws).find((s) => !before.has(s));
    assert.ok(replay);
    const row = await vs.waitForTreeRow('Sessions', new RegExp(`^Feature \\(replay of ${source}\\), succeeded · .* · ${replay}$`));
    assert.ok(row);
    const tip = await vs.treeRowTooltip(new RegExp(`^Feature \\(replay of ${source}\\)`), 'Sessions', /replay of session/);
    assert.match(tip, new RegExp(`replay of session ${source}: agent answers come from its recording, not from a provider`));
    await vs.screenshot('28-replay-label.png');
  });
});

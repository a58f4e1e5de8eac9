/**
 * Files outside the repository are not read at run time unless the workflow opts in with
 * allow_outside_repo: real sessions, real files and symlinks, a real command agent.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanupRepos, makeRepo, runToRest, type Repo } from './helpers';

after(cleanupRepos);

const SARIF = JSON.stringify({
  version: '2.1.0',
  runs: [{ tool: { driver: { name: 'lint' } }, results: [{ level: 'error', message: { text: 'outside finding' }, ruleId: 'r1', locations: [{ physicalLocation: { artifactLocation: { uri: 'src/a.ts' }, region: { startLine: 3 } } }] }] }],
});

/** A repository with a folder `elsewhere/` beside it (outside it) holding a SARIF file and a secret. */
function setup(workflow: string): { repo: Repo; elsewhere: string } {
  const repo = makeRepo(workflow);
  const elsewhere = path.join(path.dirname(repo.root), 'elsewhere');
  fs.mkdirSync(elsewhere);
  fs.writeFileSync(path.join(elsewhere, 'f.sarif'), SARIF);
  fs.writeFileSync(path.join(elsewhere, 'secret.md'), 'TOP-SECRET-OUTSIDE\n');
  return { repo, elsewhere };
}

describe('findings: and findings/sarif outside the repository', () => {
  it('are refused (the step fails, naming the key, the path and the opt-in) and nothing is read', async () => {
    const { repo, elsewhere } = setup(`
name: out
steps:
  - id: scan
    run: echo scanned
    findings: ../elsewhere/f.sarif
  - id: import
    uses: findings/sarif
    with: { file: ../elsewhere/f.sarif }
`);
    const r = await runToRest(repo);
    assert.equal(r.state.status, 'failed');
    assert.equal(r.state.steps.scan.status, 'failed');
    const file = path.join(elsewhere, 'f.sarif');
    const real = fs.realpathSync(file);
    assert.equal(
      r.state.steps.scan.reason,
      `findings: ../elsewhere/f.sarif is outside the repository ${repo.root}${real !== file ? ` (${real})` : ''}: reading it was refused; if the workflow really should read it, add allow_outside_repo: true at the top level of the workflow (or allow_outside_repo: [${file}] to allow just this path)`,
    );
    assert.equal(r.state.steps.import.status, 'failed');
    assert.match(r.state.steps.import.reason ?? '', /^with\.file: \.\.\/elsewhere\/f\.sarif is outside the repository .*: reading it was refused; if the workflow really should read it, add allow_outside_repo: true/);
    assert.equal(r.state.findings.length, 0);
  });

  it('are read when the workflow opts in (true, or a list naming the folder)', async () => {
    for (const allow of ['true', '[../elsewhere]']) {
      const { repo } = setup(`
name: out
allow_outside_repo: ${allow}
steps:
  - id: scan
    run: echo scanned
    findings: ../elsewhere/f.sarif
  - id: import
    uses: findings/sarif
    with: { file: ../elsewhere/f.sarif }
`);
      const r = await runToRest(repo);
      assert.equal(r.state.status, 'succeeded', JSON.stringify(r.state.steps));
      assert.equal(r.state.steps.scan.findings, 1);
      assert.equal(r.state.steps.import.outputs.count, '1');
    }
  });
});

describe('agent instructions and context outside the repository', () => {
  /** A command agent that answers with what it was sent (instructions are part of its prompt). */
  function agentRepo(workflow: string): { repo: Repo; elsewhere: string } {
    const s = setup(workflow);
    fs.mkdirSync(s.repo.path('.orchestrator'), { recursive: true });
    const tool = s.repo.path('echo-agent.sh');
    fs.writeFileSync(tool, '#!/usr/bin/env bash\ncat\n');
    fs.chmodSync(tool, 0o755);
    fs.writeFileSync(s.repo.path('.orchestrator', 'config.yaml'), `providers:\n  echoer:\n    type: command\n    command: [${tool}]\n    prompt: stdin\n`);
    fs.symlinkSync(path.join(s.elsewhere, 'secret.md'), s.repo.path('link.md'));
    fs.writeFileSync(s.repo.path('NOTES.md'), 'inside notes\n');
    return s;
  }
  /** Every file of the session folder, as one text. */
  const sessionText = (repo: Repo): string => {
    const out: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else out.push(fs.readFileSync(p, 'utf8'));
      }
    };
    walk(repo.path('.orchestrator', 'sessions'));
    return out.join('\n');
  };

  it('instructions ../../…, context with an absolute path, and a symlink that points out: each refused before the model is called', async () => {
    const cases: [string, string, RegExp][] = [
      ['instructions: ../elsewhere/secret.md', 'context: [NOTES.md]', /^agents\.a\.instructions: \.\.\/elsewhere\/secret\.md is outside the repository /],
      ['instructions: Be brief.', 'context: [NOTES.md, ../elsewhere/secret.md]', /^agents\.a\.context: \.\.\/elsewhere\/secret\.md is outside the repository /],
      ['instructions: Be brief.', 'context: [link.md]', /^agents\.a\.context: link\.md is a symlink to .*secret\.md, outside the repository .*: reading it was refused; .*allow_outside_repo: \[.*link\.md\]/],
    ];
    for (const [instructions, context, reason] of cases) {
      const { repo } = agentRepo(`
name: ag
agents:
  a: { provider: echoer, ${instructions}, ${context} }
steps:
  - { id: ask, agent: a, prompt: say hi }
`);
      const r = await runToRest(repo);
      assert.equal(r.state.steps.ask.status, 'failed', context);
      assert.match(r.state.steps.ask.reason ?? '', reason);
      assert.doesNotMatch(sessionText(repo), /TOP-SECRET-OUTSIDE/, 'the outside file reached neither the model nor the prompt file');
    }
  });

  it("a step's own context outside is refused; with allow_outside_repo listing it, it is sent", async () => {
    const wf = (allow: string) => `
name: ag
${allow}
agents:
  a: { provider: echoer, instructions: Be brief. }
steps:
  - { id: ask, agent: a, prompt: say hi, context: [../elsewhere/secret.md] }
`;
    const refused = await runToRest(agentRepo(wf('')).repo);
    assert.equal(refused.state.steps.ask.status, 'failed');
    assert.match(refused.state.steps.ask.reason ?? '', /^context: \.\.\/elsewhere\/secret\.md is outside the repository/);
    const { repo } = agentRepo(wf('allow_outside_repo: [../elsewhere/secret.md]'));
    const allowed = await runToRest(repo);
    assert.equal(allowed.state.steps.ask.status, 'succeeded', allowed.state.steps.ask.reason);
    assert.match(allowed.state.steps.ask.outputs.text, /TOP-SECRET-OUTSIDE/);
  });
});

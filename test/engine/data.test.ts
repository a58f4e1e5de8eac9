/**
 * What steps produce and receive: outputs, findings, expression values (never shell code) and
 * secrets (never on disk).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertRebuilds, cleanEnv, cleanupRepos, events, makeRepo, runToRest, statuses } from './helpers';

after(cleanupRepos);

describe('outputs', () => {
  it('name=value and name<<EOF from $ORCHESTRATOR_OUTPUT, outputs: expressions over the step itself, passed on to a dependent', async () => {
    const repo = makeRepo(`
name: outputs
steps:
  - id: a
    run: |
      echo "x=hello world" >> "$ORCHESTRATOR_OUTPUT"
      echo "eq=a=b=c" >> "$ORCHESTRATOR_OUTPUT"
      {
        echo "multi<<EOF"
        echo "line 1"
        echo "line 2"
        echo "EOF"
      } >> "$ORCHESTRATOR_OUTPUT"
    outputs:
      shout: \${{ format('{0}!', steps.a.outputs.x) }}
      both: "\${{ steps.a.outputs.x }} / \${{ steps.a.outputs.eq }}"
      constant: 42
  - id: b
    needs: a
    run: |
      printf '%s\\n' "\${{ steps.a.outputs.x }}" > b.txt
      printf '%s\\n' "\${{ steps.a.outputs.shout }}" >> b.txt
      printf '%s\\n' "\${{ steps.a.outputs.multi }}" >> b.txt
      printf '%s\\n' "\${{ steps.a.outputs.constant }}" >> b.txt
      echo "echo=\${{ steps.a.outputs.both }}" >> "$ORCHESTRATOR_OUTPUT"
`);
    const r = await runToRest(repo);
    assert.equal(r.state.status, 'succeeded', JSON.stringify(statuses(r.state)));
    assert.deepEqual(r.state.steps.a.outputs, {
      x: 'hello world',
      eq: 'a=b=c',
      multi: 'line 1\nline 2',
      shout: 'hello world!',
      both: 'hello world / a=b=c',
      constant: '42',
    });
    assert.equal(repo.read('b.txt'), 'hello world\nhello world!\nline 1\nline 2\n42\n');
    assert.deepEqual(r.state.steps.b.outputs, { echo: 'hello world / a=b=c' });
    // The outputs are in the event log too (state.json can be rebuilt from it).
    const fin = events(repo, r.id).find((e) => e.type === 'step.finished' && e.step === 'a');
    assert.deepEqual((fin?.data as { outputs: unknown }).outputs, r.state.steps.a.outputs);
  });
});

describe('findings', () => {
  it('::finding lines, $ORCHESTRATOR_FINDINGS and a SARIF findings: file, merged across steps with the conflict recorded', async () => {
    const repo = makeRepo(`
name: findings
concurrency: 1
steps:
  - id: lint
    run: |
      echo "::finding severity=high file=src/a.ts line=12 rule=sql-injection::SQL built from user input"
      echo '{"severity":"low","message":"unused variable","file":"src/b.ts","line":3,"rule":"no-unused"}' >> "$ORCHESTRATOR_FINDINGS"
      echo '{"severity":"info","message":"no location"}' >> "$ORCHESTRATOR_FINDINGS"
  - id: scan
    needs: lint
    findings: out/results.sarif
    run: |
      mkdir -p out
      cat > out/results.sarif <<'JSON'
      {
        "version": "2.1.0",
        "runs": [{
          "tool": { "driver": { "name": "Scanner", "rules": [{ "id": "sql-injection" }] } },
          "results": [
            { "ruleId": "sql-injection", "level": "warning", "message": { "text": "possible SQL injection" },
              "locations": [{ "physicalLocation": { "artifactLocation": { "uri": "src/a.ts" }, "region": { "startLine": 12 } } }] },
            { "ruleId": "xss", "level": "error", "message": { "text": "unescaped output" },
              "locations": [{ "physicalLocation": { "artifactLocation": { "uri": "src/c.ts" }, "region": { "startLine": 7 } } }] }
          ]
        }]
      }
      JSON
  - id: report
    needs: scan
    run: |
      echo "lint=\${{ steps.lint.findings }} scan=\${{ steps.scan.findings }}" > counts.txt
`);
    const r = await runToRest(repo);
    const st = r.state;
    assert.equal(st.status, 'succeeded', JSON.stringify(statuses(st)));
    assert.equal(st.steps.lint.findings, 3);
    assert.equal(st.steps.scan.findings, 2);
    assert.equal(repo.read('counts.txt'), 'lint=3 scan=2\n');
    assert.equal(st.rawFindings.length, 5);

    // Five reports, four findings: src/a.ts:12 sql-injection is one, with both sources.
    assert.equal(st.findings.length, 4, JSON.stringify(st.findings, null, 1));
    const sql = st.findings.filter((f) => f.rule === 'sql-injection');
    assert.equal(sql.length, 1);
    const f = sql[0];
    assert.equal(f.file, 'src/a.ts');
    assert.equal(f.line, 12);
    assert.equal(f.severity, 'high', 'the higher severity wins');
    assert.deepEqual(
      f.sources.map((s) => [s.step, s.source.split(':')[0], s.severity]),
      [
        ['lint', 'annotation', 'high'],
        ['scan', 'sarif', 'medium'],
      ],
    );
    assert.ok(f.conflict, 'the severity disagreement is recorded');
    assert.deepEqual(f.conflict.severities, ['high', 'medium']);

    const unused = st.findings.find((x) => x.rule === 'no-unused');
    assert.equal(unused?.source, 'jsonl');
    assert.equal(unused?.severity, 'low');
    assert.equal(unused?.conflict, undefined);
    const xss = st.findings.find((x) => x.rule === 'xss');
    assert.equal(xss?.severity, 'high');
    assert.equal(xss?.file, 'src/c.ts');
    assert.ok(st.findings.some((x) => x.message === 'no location' && x.file === undefined && x.severity === 'info'));
    // Every report is an event.
    assert.equal(events(repo, r.id).filter((e) => e.type === 'step.finding').length, 5);
    assertRebuilds(repo, r.id);
  });
});

describe('expressions in run', () => {
  it('reach the script as environment variables: input values are never shell code', async () => {
    const repo = makeRepo(`
name: injection
inputs:
  a: { required: true }
  b: { required: true }
steps:
  - id: echo
    run: |
      echo "quoted a: \${{ inputs.a }}"
      echo unquoted a: \${{ inputs.a }}
      echo "quoted b: \${{ inputs.b }}"
      echo unquoted b: \${{ inputs.b }}
      printf '%s\\n' "\${{ inputs.a }}" "\${{ inputs.b }}" > literal.txt
      echo "v=\${{ inputs.a }}\${{ inputs.b }}" >> "$ORCHESTRATOR_OUTPUT"
    env:
      FROM_ENV: "\${{ inputs.a }}"
  - id: env
    needs: echo
    env:
      B: "x \${{ inputs.b }}"
    run: |
      echo "$B" > env.txt
      echo $B >> env.txt
`);
    const a = '$(touch pwned)';
    const b = "'; touch pwned2 #";
    const r = await runToRest(repo, { a, b });
    assert.equal(r.state.status, 'succeeded', `${r.state.reason ?? ''} ${JSON.stringify(statuses(r.state))}`);
    for (const f of ['pwned', 'pwned2']) assert.ok(!fs.existsSync(repo.path(f)), `${f} was created: an input ran as shell code`);
    assert.equal(repo.read('literal.txt'), `${a}\n${b}\n`);
    const log = fs.readFileSync(r.started.paths.stepLog('echo', 1), 'utf8');
    assert.deepEqual(log.split('\n').slice(0, 4), [`quoted a: ${a}`, `unquoted a: $(touch pwned)`, `quoted b: ${b}`, `unquoted b: '; touch pwned2 #`]);
    assert.equal(r.state.steps.echo.outputs.v, a + b);
    assert.equal(repo.read('env.txt'), `x ${b}\nx ${b}\n`);
  });
});

describe('secrets', () => {
  const TOKEN = 's3cr3t-value-123';
  const API_KEY = 'k3y-from-a-file-987';

  /** The forms a secret must never take on disk. */
  function forms(v: string): string[] {
    const out = new Set<string>([v]);
    for (const text of [v, `${v}\n`]) {
      const b64 = Buffer.from(text).toString('base64');
      out.add(b64);
      out.add(b64.replace(/=+$/, ''));
      out.add(b64.replace(/\+/g, '-').replace(/\//g, '_'));
    }
    return [...out];
  }

  /** Every file under dir, recursively (secrets/ excepted: it holds the file secret by design). */
  function allFiles(dir: string): string[] {
    const out: string[] = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (p !== path.join(dir, 'secrets') || path.basename(dir) !== '.orchestrator') out.push(...allFiles(p));
      } else out.push(p);
    }
    return out;
  }

  it('are masked everywhere on disk (logs, outputs, findings, state, events), and steps do not inherit ORCHESTRATOR_SECRET_*', async () => {
    const repo = makeRepo(`
name: secrets
concurrency: 1
steps:
  - id: leak
    env:
      FROM_ENV: "\${{ secrets.API_KEY }}"
    run: |
      echo "token: \${{ secrets.TOKEN }}"
      echo "key: \${{ secrets.API_KEY }} and $FROM_ENV"
      echo -n "\${{ secrets.TOKEN }}" | base64
      echo "\${{ secrets.TOKEN }}" | base64
      echo -n "\${{ secrets.API_KEY }}" | base64
      echo "to stderr \${{ secrets.TOKEN }}" >&2
      echo "tok=\${{ secrets.TOKEN }}" >> "$ORCHESTRATOR_OUTPUT"
      echo "b64=$(echo -n "\${{ secrets.TOKEN }}" | base64)" >> "$ORCHESTRATOR_OUTPUT"
      echo "::finding severity=high file=src/\${{ secrets.TOKEN }}.ts line=1 rule=leak::leaked \${{ secrets.TOKEN }}"
      printf '{"severity":"low","message":"jsonl %s"}\\n' "\${{ secrets.API_KEY }}" >> "$ORCHESTRATOR_FINDINGS"
      mkdir -p out
      printf '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[{"level":"error","message":{"text":"sarif %s"}}]}]}' "\${{ secrets.TOKEN }}" > out/s.sarif
      printf '%s\\n' "$ORCHESTRATOR_OUTPUT" "$ORCHESTRATOR_FINDINGS" > scratch.txt
      echo "inherited=\${ORCHESTRATOR_SECRET_TOKEN:-none}" > inherited.txt
      env | grep -c '^ORCHESTRATOR_SECRET_' >> inherited.txt || true
    findings: out/s.sarif
    outputs:
      expr: "\${{ secrets.API_KEY }}"
  - id: fails
    needs: leak
    on_error: continue
    run: |
      echo "\${{ steps.leak.outputs.tok }}" > passed-on.txt
      echo "about to fail with \${{ secrets.TOKEN }}"
      exit 1
  - id: bad_json
    needs: fails
    on_error: continue
    run: echo "\${{ fromJSON(secrets.TOKEN) }}"
  - id: bad_if
    needs: bad_json
    on_error: continue
    if: fromJSON(secrets.API_KEY)
    run: echo unreachable
`);
    fs.mkdirSync(repo.path('.orchestrator', 'secrets'), { recursive: true });
    fs.writeFileSync(repo.path('.orchestrator', 'secrets', 'API_KEY'), `${API_KEY}\n`);
    const r = await runToRest(repo, {}, { env: cleanEnv({ ORCHESTRATOR_SECRET_TOKEN: TOKEN }) });
    const st = r.state;
    assert.equal(st.steps.leak.status, 'succeeded', st.steps.leak.reason);
    assert.equal(st.steps.fails.status, 'failed');

    // The step saw the real values (they are masked only on the way to the disk)...
    assert.equal(repo.read('passed-on.txt'), '***\n', 'outputs are stored masked, so a dependent gets the mask');
    // ...but not the ORCHESTRATOR_SECRET_* variables.
    assert.equal(repo.read('inherited.txt'), 'inherited=none\n0\n');

    assert.equal(st.steps.leak.outputs.tok, '***');
    assert.equal(st.steps.leak.outputs.b64, '***');
    assert.equal(st.steps.leak.outputs.expr, '***');
    const log = fs.readFileSync(r.started.paths.stepLog('leak', 1), 'utf8');
    assert.match(log, /^token: \*\*\*$/m);
    assert.match(log, /^key: \*\*\* and \*\*\*$/m);
    assert.match(log, /^to stderr \*\*\*$/m);
    assert.ok(st.rawFindings.some((f) => f.message === 'leaked ***' && f.file === 'src/***.ts'));
    assert.ok(st.rawFindings.some((f) => f.message === 'jsonl ***'));
    assert.ok(st.rawFindings.some((f) => f.message === 'sarif ***'));

    // Every byte of every file under .orchestrator/ (but the secrets folder).
    const files = allFiles(repo.path('.orchestrator'));
    assert.ok(files.some((f) => f.endsWith('state.json')) && files.some((f) => f.endsWith('log.jsonl')) && files.some((f) => f.endsWith('1.log')));
    let masked = 0;
    const leaks: string[] = [];
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      for (const secret of [TOKEN, API_KEY]) {
        for (const form of forms(secret)) {
          for (let at = bytes.indexOf(form); at !== -1; at = bytes.indexOf(form, at + 1)) {
            leaks.push(`${path.relative(repo.root, file)} holds ${JSON.stringify(form)} (a form of ${secret}): ...${bytes.subarray(Math.max(0, at - 80), at + form.length + 20).toString()}...`);
          }
        }
      }
      if (bytes.includes('***')) masked++;
    }
    assert.deepEqual(leaks, [], `secrets on disk:\n${leaks.join('\n')}`);
    assert.ok(masked >= 3, `expected *** in the step log, state.json and log.jsonl (found in ${masked} files)`);
    // The files the step wrote its raw outputs and findings to are gone (and were not in the repo).
    const scratch = (repo.read('scratch.txt') ?? '').split('\n').filter(Boolean);
    assert.equal(scratch.length, 2);
    for (const f of scratch) {
      assert.ok(!path.resolve(f).startsWith(repo.root + path.sep), `${f} is inside the repository`);
      assert.ok(!fs.existsSync(f), `${f} (raw outputs or findings) is still on disk`);
    }
    assertRebuilds(repo, r.id);
  });
});

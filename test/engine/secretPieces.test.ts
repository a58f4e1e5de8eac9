/**
 * Secrets never reach the disk, not even in part: an error message quoting the start of a value
 * (JSON.parse quotes 10 characters), a value split between stdout and stderr, hex dumps. A real
 * session with a real secret, then every byte under .orchestrator/ and of a snapshot is searched.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exportSnapshot } from '../../server/src/store/portable';
import { cleanEnv, cleanupRepos, makeRepo, runToRest, statuses } from './helpers';

after(cleanupRepos);

const TOKEN = 'Zq7-s3cr3t-value-90210-xyz';

/** What must never be on disk: every 6 characters of the value, every 6 bytes of its hex forms, its base64. */
function forbidden(v: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i + 6 <= v.length; i++) out.add(v.slice(i, i + 6));
  const hex = Buffer.from(v).toString('hex');
  for (const h of [hex, hex.toUpperCase()]) for (let i = 0; i + 12 <= h.length; i += 2) out.add(h.slice(i, i + 12));
  const spaced = hex.replace(/(..)(?!$)/g, '$1 ');
  for (let i = 0; i + 17 <= spaced.length; i += 3) out.add(spaced.slice(i, i + 17));
  for (const t of [v, `${v}\n`]) {
    const b = Buffer.from(t).toString('base64');
    out.add(b);
    out.add(b.replace(/=+$/, ''));
  }
  return [...out];
}

function allFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? allFiles(p) : [p];
  });
}

describe('secrets: no piece of one on disk', () => {
  it('fromJSON error messages, a value split between stdout and stderr, hex dumps: masked in log.jsonl, state.json, step logs and snapshots', async () => {
    const repo = makeRepo(`
name: pieces
concurrency: 1
steps:
  - id: bad_if
    on_error: continue
    if: \${{ fromJSON(secrets.TOKEN) == 1 }}
    run: echo unreachable
  - id: bad_expr
    needs: bad_if
    on_error: continue
    run: |
      echo "\${{ fromJSON(format('[1, {0}]', secrets.TOKEN)) }}"
  - id: split
    needs: bad_expr
    run: |
      S="\${{ secrets.TOKEN }}"
      printf '%s' "\${S:0:11}"; printf '%s\\n' "\${S:11}" >&2; echo
      printf '%s' "\${S:0:3}"; printf '%s\\n' "\${S:3}" >&2; echo
      printf '%s\\n' "\${S:0:23}" >&2; printf '%s\\n' "\${S:23}"
      printf 'head: %s\\n' "$(printf '%s' "$S" | head -c 10)"
      printf '%s' "$S" | xxd -p
      printf '%s' "$S" | od -An -tx1
      printf '%s' "$S" | hexdump -C
      printf '%s' "$S" | xxd -p | tr 'a-f' 'A-F'
      echo "reason=$(printf '%s' "$S" | head -c 8)" >> "$ORCHESTRATOR_OUTPUT"
  - id: fails
    needs: split
    run: |
      echo "quoting \${{ secrets.TOKEN }}" | cut -c 1-20
      exit 3
`);
    const r = await runToRest(repo, {}, { env: cleanEnv({ ORCHESTRATOR_SECRET_TOKEN: TOKEN }) });
    const st = r.state;
    assert.equal(st.steps.bad_if.status, 'failed', JSON.stringify(statuses(st)));
    assert.match(st.steps.bad_if.reason ?? '', /could not be evaluated: .*\*\*\*/);
    assert.equal(st.steps.split.status, 'succeeded', st.steps.split.reason);
    assert.equal(st.steps.fails.status, 'failed');
    const log = fs.readFileSync(r.started.paths.stepLog('split', 1), 'utf8');
    assert.ok(log.split('\n').length >= 12, log);
    // The 3-character start on stdout and the rest on stderr: each its own line, both masked.
    for (const line of log.split('\n')) assert.ok(!(line.length >= 3 && (TOKEN.startsWith(line) || TOKEN.endsWith(line))), `a piece of the secret is a line of the log: ${line}`);

    const snapshot = path.join(repo.root, 'out.snapshot.json');
    await exportSnapshot(repo.root, r.id, snapshot);
    const files = [...allFiles(repo.path('.orchestrator')), snapshot];
    assert.ok(files.some((f) => f.endsWith('state.json')) && files.some((f) => f.endsWith('log.jsonl')));
    const leaks: string[] = [];
    for (const file of files) {
      const text = fs.readFileSync(file, 'latin1');
      for (const piece of forbidden(TOKEN)) {
        const at = text.indexOf(piece);
        if (at >= 0) leaks.push(`${path.relative(repo.root, file)} holds ${JSON.stringify(piece)}: ...${text.slice(Math.max(0, at - 60), at + piece.length + 20)}...`);
      }
    }
    assert.deepEqual(leaks, [], `pieces of the secret on disk:\n${leaks.join('\n')}`);
  });
});

/**
 * The pieces of `init` and the secrets commands on their own (server/src/setup/): the config
 * template, `secrets.X` references as the workflow and expression parsers see them, remote URLs
 * made safe, atomic writes that never overwrite and have their mode from the first byte, which
 * `.gitignore` texts are ours, and the once-per-process warning about open secret files.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { looseMode, setLooseSecretSink, warnLooseSecrets } from '../../server/src/engine/secretModes';
import { createFileExclusive, replaceFileAtomic } from '../../server/src/setup/atomicFiles';
import { configTemplate } from '../../server/src/config/template';
import { safeRemoteUrl } from '../../server/src/setup/gitFacts';
import { gitignoreMode, NORMAL_GITIGNORE, PORTABLE_GITIGNORE } from '../../server/src/setup/gitignoreModes';
import { secretReferences } from '../../server/src/setup/workflowFiles';

const temps: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-setup-'));
  temps.push(d);
  return d;
};
after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('configTemplate()', () => {
  it('is all comments: loaded as it is, it sets nothing', () => {
    assert.equal(parse(configTemplate()), null);
  });

  // Uncommented, it is a valid file with every setting: test/unit/config-schema.test.ts.

  it('names the commands a user has, never this repository\'s docs/', () => {
    assert.doesNotMatch(configTemplate(), /docs\/|\.md\b/);
    assert.match(configTemplate(), /orchestrator secrets set NAME/);
  });
});

describe('secretReferences()', () => {
  const refs = (text: string) => secretReferences(text).map((r) => `${r.name ?? '?'}:${r.line}`);

  it('finds secrets.X in every ${{ }} of any string, in if: with or without ${{ }}, by 1-based line', () => {
    const text = [
      'name: w', // 1
      'env:', // 2
      '  A: "${{ secrets.TOP }}"', // 3
      'steps:', // 4
      '  - id: a', // 5
      "    if: secrets.GATE != ''", // 6
      '    run: |', // 7
      '      echo one', // 8
      '      echo "${{ secrets.IN_BLOCK }} and ${{ secrets.SECOND }}"', // 9
      '  - id: b', // 10
      "    if: ${{ secrets['BRACKET'] }}", // 11
      "    run: 'echo ${{ secrets.SINGLE }}'", // 12
      '    with: { x: "${{ secrets[inputs.which] }}", y: "${{ toJSON(secrets) }}" }', // 13
      '    secrets.NOT_A_REF: plain text secrets.NOR_THIS', // 14
    ].join('\n');
    assert.deepEqual(refs(text), ['TOP:3', 'GATE:6', 'IN_BLOCK:9', 'SECOND:9', 'BRACKET:11', 'SINGLE:12', '?:13', '?:13']);
  });

  it('a text that is not YAML, or reads no secret, gives none', () => {
    assert.deepEqual(refs('name: [unclosed\n  run: ${{ secrets.X }'), []);
    assert.deepEqual(refs('name: w\nsteps:\n  - id: a\n    run: echo ${{ inputs.x }}\n'), []);
  });
});

describe('safeRemoteUrl()', () => {
  it('takes user names, passwords and queries out of URLs; scp-like remotes and paths stay', () => {
    assert.equal(safeRemoteUrl('https://user:ghp_token@github.com/o/r.git'), 'https://github.com/o/r.git');
    assert.equal(safeRemoteUrl('https://oauth2:tok@gitlab.com/o/r.git?private_token=x'), 'https://gitlab.com/o/r.git');
    assert.equal(safeRemoteUrl('ssh://git@host:22/o/r.git'), 'ssh://host:22/o/r.git');
    assert.equal(safeRemoteUrl('git@github.com:o/r.git'), 'git@github.com:o/r.git');
    assert.equal(safeRemoteUrl('/srv/git/r.git'), '/srv/git/r.git');
  });
});

describe('atomic writes', () => {
  it('createFileExclusive never overwrites (false, file unchanged) and leaves no temp file', () => {
    const d = tmp();
    const f = path.join(d, 'a.txt');
    assert.equal(createFileExclusive(f, 'one\n'), true);
    assert.equal(createFileExclusive(f, 'two\n'), false);
    assert.equal(fs.readFileSync(f, 'utf8'), 'one\n');
    assert.deepEqual(fs.readdirSync(d), ['a.txt']);
  });

  it('the mode asked for is the mode from the first byte, whatever the umask; replace swaps the file whole', () => {
    const d = tmp();
    const f = path.join(d, 's');
    fs.writeFileSync(f, 'old');
    fs.chmodSync(f, 0o644);
    const inode = fs.statSync(f).ino;
    replaceFileAtomic(f, 'new', 0o600);
    assert.equal(fs.statSync(f).mode & 0o777, 0o600);
    assert.notEqual(fs.statSync(f).ino, inode, 'a new file, not the old one rewritten in place');
    assert.equal(fs.readFileSync(f, 'utf8'), 'new');
    createFileExclusive(path.join(d, 'g'), 'x', 0o664);
    assert.equal(fs.statSync(path.join(d, 'g')).mode & 0o777, 0o664, 'past a umask of 022');
  });
});

describe('.gitignore texts', () => {
  it('ours are recognised byte for byte; anything else is custom', () => {
    assert.equal(gitignoreMode(NORMAL_GITIGNORE), 'normal');
    assert.equal(gitignoreMode(PORTABLE_GITIGNORE), 'portable');
    assert.equal(gitignoreMode('# Machine-local orchestrator state (see docs/sessions.md)\nsessions/\nsecrets/\n'), 'normal');
    assert.equal(gitignoreMode(NORMAL_GITIGNORE + 'extra/\n'), 'custom');
    assert.equal(gitignoreMode('*\n'), 'custom');
  });

  it('neither is `*`: workflows, config.yaml and meta.json stay visible to git', () => {
    for (const t of [NORMAL_GITIGNORE, PORTABLE_GITIGNORE]) {
      assert.doesNotMatch(t, /^\*$|^workflows|^config|^meta/m);
      assert.match(t, /^secrets\/$/m);
      assert.match(t, /^worktrees\/$/m);
    }
  });
});

describe('open secret files', () => {
  it('any group or other bit is open; the warning is one line, once per process for the same files', () => {
    assert.equal(looseMode(0o100600), false);
    assert.equal(looseMode(0o100640), process.platform !== 'win32');
    assert.equal(looseMode(0o100602), process.platform !== 'win32');
    const lines: string[] = [];
    setLooseSecretSink((l) => lines.push(l));
    const files = [{ file: '/r/.orchestrator/secrets/A', mode: 0o100644 }, { file: '/h/my secrets/B', mode: 0o100640 }];
    warnLooseSecrets(files);
    warnLooseSecrets(files);
    warnLooseSecrets([]);
    assert.deepEqual(lines, ["warning: secret files readable by other users: /r/.orchestrator/secrets/A (0644), /h/my secrets/B (0640); run chmod 600 /r/.orchestrator/secrets/A '/h/my secrets/B'"]);
  });
});

/**
 * The CLI of the release before state format versions (commit df15dc0, format 1), built from this
 * repository's git history: the "old reader" of the migration tests. Undefined when the history
 * does not hold that commit (a shallow clone); the tests then say so and check the new reader only.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

export const OLD_RELEASE = 'df15dc0';
const REPO = path.resolve(__dirname, '..', '..');

/** Builds the old CLI into a temp folder; its path, or undefined without the commit. */
export async function buildOldCli(): Promise<string | undefined> {
  try {
    execFileSync('git', ['-C', REPO, 'cat-file', '-e', `${OLD_RELEASE}^{commit}`], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-old-release-'));
  const tar = execFileSync('git', ['-C', REPO, 'archive', '--format=tar', OLD_RELEASE, 'server/src'], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  const outfile = path.join(dir, 'cli.js');
  await esbuild.build({ entryPoints: [path.join(dir, 'server', 'src', 'cli.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile, nodePaths: [path.join(REPO, 'node_modules')], logLevel: 'silent' });
  return outfile;
}

/**
 * What git says about the repository, for `init` and the secrets checks: whether it is a git
 * repository, its remote (without any credentials), which paths its ignore rules ignore
 * (`git check-ignore`, so the repository's own .gitignore files, `info/exclude` and the user's
 * global excludes all count, as they do for `git add`), and which files are tracked.
 * Every answer is "unknown" rather than an exception when git is missing or fails.
 */
import { git } from '../engine/workspace/git';

/** The top of the git work tree holding `dir`, or undefined (not a repository, or no git). */
export async function gitTopLevel(dir: string): Promise<string | undefined> {
  try {
    return (await git(dir, ['rev-parse', '--show-toplevel'])).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A remote URL as it may be written down: user names and passwords (`https://user:token@host/`)
 * and query strings are removed, so a token in a remote never reaches a file.
 */
export function safeRemoteUrl(url: string): string {
  const u = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*@)?([^?#]*)/i.exec(u);
  if (scheme) return scheme[1] + scheme[3];
  return u; // scp-like (git@host:org/repo.git) or a path: no password can be in it
}

/** The URL of `origin`, else of the first remote, made safe; undefined when there is none. */
export async function gitRemote(repoRoot: string): Promise<string | undefined> {
  try {
    const names = (await git(repoRoot, ['remote'])).stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    const name = names.includes('origin') ? 'origin' : names[0];
    if (!name) return undefined;
    const url = (await git(repoRoot, ['remote', 'get-url', name])).stdout.trim();
    return url ? safeRemoteUrl(url) : undefined;
  } catch {
    return undefined;
  }
}

export interface IgnoreVerdict {
  /** The path as asked, relative to the repository root. */
  path: string;
  ignored: boolean;
  /** `file:line: pattern` of the rule that decided (also a `!negation` that un-ignores it). */
  rule?: string;
}

/**
 * Whether git's ignore rules ignore each path (relative to `repoRoot`; the paths need not exist).
 * `--no-index`: the rules alone, whether or not a file is already tracked (trackedFiles says that).
 * Undefined when this is not a git repository or git fails.
 */
export async function ignoredPaths(repoRoot: string, paths: readonly string[]): Promise<IgnoreVerdict[] | undefined> {
  if (paths.length === 0) return [];
  try {
    const r = await git(repoRoot, ['check-ignore', '--no-index', '-v', '-n', '-z', '--stdin'], { input: paths.map((p) => `${p}\0`).join(''), okCodes: [1] });
    const f = r.stdout.split('\0');
    const out: IgnoreVerdict[] = [];
    for (let i = 0; i + 3 < f.length; i += 4) {
      const [source, line, pattern, p] = [f[i], f[i + 1], f[i + 2], f[i + 3]];
      const ignored = pattern !== '' && !pattern.startsWith('!');
      out.push({ path: p, ignored, ...(pattern ? { rule: `${source}:${line}: ${pattern}` } : {}) });
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Files git tracks under a path (relative to `repoRoot`); undefined when not a git repository. */
export async function trackedFiles(repoRoot: string, pathspec: string): Promise<string[] | undefined> {
  try {
    return (await git(repoRoot, ['ls-files', '-z', '--', pathspec])).stdout.split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

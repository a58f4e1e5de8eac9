/**
 * Files a workflow reads (agent `instructions` and `context`, a step's `findings:`, the `file` of
 * `findings/sarif`) stay inside the repository unless the workflow opts in with the top-level
 * `allow_outside_repo` (true, or a list of files and folders). The same rule is a warning in
 * `validate` and the editor (pathChecks.ts) and a refusal at run time (the engine's readers).
 *
 * "Inside" is decided on real paths: symlinks resolved, so a link in the repository that points
 * out counts as outside. A path that does not exist (yet) is judged by its nearest existing folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The workflow's `allow_outside_repo`: true (anything), a list of paths (these and what is under them), or nothing. */
export type AllowOutsideRepo = boolean | readonly string[] | undefined;

export const ALLOW_KEY = 'allow_outside_repo';

/** The path with every symlink resolved; for a missing path, its nearest existing ancestor resolved plus the rest. */
export function realPath(p: string): string {
  const abs = path.resolve(p);
  let cur = abs;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(cur), ...rest.reverse());
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return abs;
      rest.push(path.basename(cur));
      cur = up;
    }
  }
}

/** Whether `p` is `dir` or below it (both absolute, already resolved). */
export function isWithin(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

export interface OutsideRepo {
  /** The path as resolved (absolute, symlinks not resolved): what to list under allow_outside_repo. */
  readonly path: string;
  /** The real path that lies outside. */
  readonly real: string;
  /** Whether the path itself is inside and a symlink on the way leads out. */
  readonly viaSymlink: boolean;
}

/**
 * Whether reading `abs` leaves the repository at `root` and is not allowed by `allow`
 * (undefined: it stays inside, or the workflow allows it).
 */
export function outsideRepo(root: string, abs: string, allow: AllowOutsideRepo, real: (p: string) => string = realPath): OutsideRepo | undefined {
  if (allow === true) return undefined;
  const realRoot = real(root);
  const target = real(abs);
  if (isWithin(realRoot, target)) return undefined;
  if (Array.isArray(allow) && allow.some((entry: string) => isWithin(real(path.resolve(root, entry)), target))) return undefined;
  return { path: path.resolve(abs), real: target, viaSymlink: isWithin(path.resolve(root), path.resolve(abs)) };
}

/** How to opt in, for messages. */
export function optInHint(out: OutsideRepo): string {
  return `if the workflow really should read it, add ${ALLOW_KEY}: true at the top level of the workflow (or ${ALLOW_KEY}: [${out.path}] to allow just this path)`;
}

/** Where the path leads, for messages: `outside the repository R (/real)` or `a symlink to /real, outside the repository R`. */
export function whereOutside(out: OutsideRepo, root: string): string {
  return out.viaSymlink ? `a symlink to ${out.real}, outside the repository ${root}` : `outside the repository ${root}${out.real !== out.path ? ` (${out.real})` : ''}`;
}

/** The one-line reason a step fails when it would read outside the repository. */
export function outsideRepoRefusal(key: string, shown: string, out: OutsideRepo, root: string): string {
  return `${key}: ${shown} is ${whereOutside(out, root)}: reading it was refused; ${optInHint(out)}`;
}

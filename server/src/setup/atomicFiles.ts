/**
 * Atomic writes for `init` and the secrets commands, on top of durableFile.ts's way (temp file,
 * fsync, then one step that makes it visible, fsync of the folder): a crash at any instant leaves
 * the file absent, as it was, or complete — never half-written.
 *
 * - createFileExclusive: the temp file is hard-linked to the name, which fails when the name
 *   exists (also when it appeared meanwhile): a user's file is never overwritten.
 * - replaceFileAtomic: the temp file is renamed over the name.
 * Both create the temp file with the final mode, so a secret is never readable by others, not even
 * for an instant (a chmod after writing would leave a window).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncDir } from '../store/durableFile';

function writeTemp(file: string, data: string, mode: number): string {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  const bytes = Buffer.from(data, 'utf8');
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
  try {
    // The umask may have taken bits away from `mode` (never added any): set exactly what was asked.
    fs.fchmodSync(fd, mode);
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  return tmp;
}

/** Writes `file` only when it does not exist. True when written, false when it existed (and was left alone). */
export function createFileExclusive(file: string, data: string, mode = 0o644): boolean {
  const tmp = writeTemp(file, data, mode);
  try {
    try {
      fs.linkSync(tmp, file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A file system without hard links (FAT, some network shares): still never overwrites, but a
      // crash in the copy could leave it short; init then says it exists and what it holds is kept.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') fs.copyFileSync(tmp, file, fs.constants.COPYFILE_EXCL);
      else throw e;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  fsyncDir(path.dirname(file));
  return true;
}

/** Writes `file` whether or not it exists, in one atomic step. */
export function replaceFileAtomic(file: string, data: string, mode = 0o644): void {
  const tmp = writeTemp(file, data, mode);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(path.dirname(file));
}

/** Creates a folder (and its parents) if missing; true when this call created `dir` itself. */
export function ensureDir(dir: string, mode = 0o755): boolean {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a folder: move it away`);
    return false;
  }
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.mkdirSync(dir, { mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  fs.chmodSync(dir, mode); // past the umask
  fsyncDir(path.dirname(dir));
  return true;
}

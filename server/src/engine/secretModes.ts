/**
 * Secret files other users can read (or write): any group or other permission bit, as ssh judges
 * its keys. Whoever reads secrets from files (resolveSecrets, the secrets commands) warns once per
 * process, in one line on stderr, with the chmod that fixes it. Not on Windows, whose modes do
 * not say this.
 */

/** Whether a file's mode gives group or others any access. */
export function looseMode(mode: number): boolean {
  return process.platform !== 'win32' && (mode & 0o077) !== 0;
}

export function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

/** The one-line warning for these files (absolute paths with their modes). */
export function looseWarning(files: readonly { file: string; mode: number }[]): string {
  const list = files.map((f) => `${f.file} (${octal(f.mode)})`).join(', ');
  return `warning: secret file${files.length === 1 ? '' : 's'} readable by other users: ${list}; run chmod 600 ${files.map((f) => quote(f.file)).join(' ')}`;
}

function quote(p: string): string {
  return /^[\w./~-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

const warned = new Set<string>();
let sink: (line: string) => void = (line) => void process.stderr.write(`orchestrator: ${line}\n`);

/** Where the warning goes (tests, or a door with its own log); the default is stderr. */
export function setLooseSecretSink(f: (line: string) => void): void {
  sink = f;
}

/** Warns about these files, once per process for the same set. */
export function warnLooseSecrets(files: readonly { file: string; mode: number }[]): void {
  if (files.length === 0) return;
  const key = files.map((f) => `${f.file}:${f.mode}`).join('\0');
  if (warned.has(key)) return;
  warned.add(key);
  sink(looseWarning(files));
}

/**
 * The session folders of state format 1 in test/fixtures/state-v1 (made by the release before the
 * format carried a version), copied into throw-away repositories, and fingerprints of a sessions
 * folder to tell "byte for byte the same" from "changed".
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'state-v1');

/** What that release's `list --json` and `show ID --json` printed for the fixture. */
export const EXPECTED = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8')) as { list: { id: string; status: string }[]; show: Record<string, Record<string, unknown>> };

export const IDS = EXPECTED.list.map((s) => s.id).sort();
/** The session whose state.json reflects only part of its log (its runner was killed). */
export const INTERRUPTED = '20261207-064425-3ejf';

export function sessionsOf(root: string): string {
  return path.join(root, '.orchestrator', 'sessions');
}

/** Copies the fixture's sessions (or some of them) into `root`'s .orchestrator/sessions. */
export function copyFixture(root: string, ids: readonly string[] = IDS): void {
  fs.mkdirSync(sessionsOf(root), { recursive: true });
  for (const id of ids) fs.cpSync(path.join(FIXTURE, 'sessions', id), path.join(sessionsOf(root), id), { recursive: true });
}

/** Every file under `dir` (dot-files too) with the sha256 of its bytes, by relative path. */
export function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out[`${r}/`] = 'dir';
        walk(p, r);
      } else out[r] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}

/** A session's state.json and log.jsonl as they are now. */
export function filesOf(root: string, id: string): { state: Buffer | undefined; log: Buffer } {
  const dir = path.join(sessionsOf(root), id);
  return { state: fs.existsSync(path.join(dir, 'state.json')) ? fs.readFileSync(path.join(dir, 'state.json')) : undefined, log: fs.readFileSync(path.join(dir, 'log.jsonl')) };
}

/** The fixture's own state.json and log.jsonl of a session (format 1). */
export function fixtureFiles(id: string): { state: Buffer; log: Buffer } {
  const dir = path.join(FIXTURE, 'sessions', id);
  return { state: fs.readFileSync(path.join(dir, 'state.json')), log: fs.readFileSync(path.join(dir, 'log.jsonl')) };
}

/** Puts `"v":N,"by":BY,` in front of the first line of a log and of a state.json (a folder "from a newer release"). */
export function stamp(text: Buffer | string, v: number, by: string): Buffer {
  const s = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return Buffer.concat([Buffer.from('{'), Buffer.from(`"v":${v},"by":${JSON.stringify(by)},`), s.subarray(1)]);
}

const INSERT = '"v":2,"by":"orchestrator 0.1.0",';

/** What migrating a fixture session must give, byte for byte: the version in front, the snapshot's offset moved by it. */
export function upgraded(id: string): { log: Buffer; state: Record<string, unknown> } {
  const f = fixtureFiles(id);
  const log = Buffer.concat([Buffer.from('{'), Buffer.from(INSERT), f.log.subarray(1)]);
  const old = JSON.parse(f.state.toString()) as Record<string, unknown> & { logOffset: number };
  return { log, state: { v: 2, by: 'orchestrator 0.1.0', ...old, logOffset: old.logOffset + Buffer.byteLength(INSERT) } };
}

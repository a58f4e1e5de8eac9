/**
 * A session runner's inbox: the commands the CLI and the editor append to the session's
 * control.jsonl (pause, cancel, approve, reject, retry), each handed to the runner once, in order.
 * The file is watched; without inotify the commands are still applied at the next resume.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readControl, type ControlEntry } from '../store/control';

export class ControlInbox {
  /** Commands handed over so far. The caller emptied control.jsonl when it took the lock
   * (startSession/resumeSession), so everything in it is for this run, including commands sent
   * before the runner existed. */
  private seen = 0;
  private watcher?: fs.FSWatcher;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly handle: (entry: ControlEntry, index: number) => void,
  ) {}

  /** Starts watching and hands over what is there already. */
  open(): void {
    try {
      this.watcher = fs.watch(path.dirname(this.file), (_ev, name) => {
        if (name === path.basename(this.file)) this.drain();
      });
      this.watcher.unref();
    } catch {
      /* without inotify, commands are still applied at the next resume */
    }
    this.drain();
  }

  /** Hands over the commands not seen yet; `index` is the command's 1-based line. */
  drain(): void {
    if (this.closed) return;
    const entries = readControl(this.file);
    while (this.seen < entries.length && !this.closed) {
      const i = this.seen++;
      this.handle(entries[i], i + 1);
    }
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
  }
}

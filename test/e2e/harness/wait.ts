/**
 * Waiting and matching: waitFor() polls a probe until it answers (never a fixed sleep) and on
 * timeout says what it waited for and what was there; TextMatch and the small formatters the
 * driver's error messages use.
 */
import { TIMEOUT } from './env';

/**
 * Polls `probe` until it returns something other than undefined/false, and returns that. After
 * `timeout` ms throws `Timed out after Ns waiting for <what>` plus `describe()` (what was there).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeout?: number; interval?: number; describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const timeout = opts.timeout ?? TIMEOUT;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) break;
    await delay(opts.interval ?? 200);
  }
  let detail = '';
  try {
    detail = opts.describe ? await opts.describe() : '';
  } catch (e) {
    detail = `(could not describe the screen: ${String(e)})`;
  }
  const err = lastError === undefined ? '' : `\nlast error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`;
  throw new Error(`Timed out after ${Math.round(timeout / 1000)}s waiting for ${what}${err}${detail ? `\n${detail}` : ''}`);
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A string matches when it equals the text (trimmed, case-insensitive); a RegExp when it matches. */
export type TextMatch = string | RegExp;
export function matches(m: TextMatch, text: string): boolean {
  return typeof m === 'string' ? text.trim().toLowerCase() === m.trim().toLowerCase() : m.test(text);
}
export const show = (m: TextMatch) => (typeof m === 'string' ? JSON.stringify(m) : String(m));
export const list = (items: string[]) => (items.length ? items.map((s) => `    - ${s}`).join('\n') : '    (none)');
export const q = (s: string) => JSON.stringify(s);

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

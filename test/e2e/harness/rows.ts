/**
 * Reading rows of the workbench's lists (quick input, trees, menus, toasts): their aria-labels,
 * labels and texts in one evaluate each, and findRow() to pick one that is still the same row
 * when it is returned (lists re-render under us).
 */
import type { Locator } from 'playwright-core';

/** aria-label (or `attr`; '' for none), else the text, of each element; whitespace collapsed. */
export async function rowTexts(loc: Locator, attr = 'aria-label'): Promise<string[]> {
  return loc.evaluateAll(
    (els: { getAttribute(n: string): string | null; textContent: string | null }[], a: string) =>
      els.map((e) => ((a ? e.getAttribute(a) : null) || e.textContent || '').trim().replace(/\s+/g, ' ')),
    attr,
  );
}

export interface RowInfo {
  /** aria-label ("" when none). */
  aria: string;
  /** The icon label's name plus suffix (VS Code renders "broken" + ".yaml" in tabs), else the text. */
  label: string;
  /** The icon label's description (Quick Open: the folder). */
  description: string;
  /** All the row's text, whitespace collapsed. */
  text: string;
}

/** aria-label, label, description and text of each element, read at once. */
async function rowInfos(loc: Locator): Promise<RowInfo[]> {
  type El = { textContent: string | null; getAttribute(n: string): string | null; querySelector(s: string): El | null };
  return loc.evaluateAll((els: El[]) =>
    els.map((e) => {
      const [name, suffix, description, text] = ['.label-name', '.label-suffix', '.label-description', ''].map((sel) =>
        ((sel ? e.querySelector(sel)?.textContent : e.textContent) ?? '').trim().replace(/\s+/g, ' '),
      );
      return { aria: (e.getAttribute('aria-label') ?? '').trim(), label: name ? name + suffix : text, description, text };
    }),
  );
}

/**
 * The first element of `loc` whose info passes `pred`, checked again just before it is returned
 * (lists re-render: the n-th row may have become another one).
 */
export async function findRow(loc: Locator, pred: (r: RowInfo) => boolean): Promise<Locator | undefined> {
  const infos = await rowInfos(loc);
  const i = infos.findIndex(pred);
  if (i < 0) return undefined;
  const el = loc.nth(i);
  const again = await rowInfos(el);
  return again.length === 1 && pred(again[0]) ? el : undefined;
}

/**
 * Webview helpers of the UI suite. code-server nests a webview's page two frames deep
 * (`iframe.webview` → its `#active-frame`), and a panel that sets `webview.html` again gets a new
 * inner frame: so these look the frame up afresh on every poll, by the page's `<title>`, among
 * all the page's frames (Playwright reaches into cross-origin frames in Chromium).
 */
import type { Frame } from 'playwright-core';
import type { CodeServer } from './harness';

/** The webview documents on screen whose `<title>` matches (newest last). */
export async function webviewFrames(vs: CodeServer, title: RegExp): Promise<Frame[]> {
  const out: Frame[] = [];
  for (const f of vs.page.frames()) {
    if (f === vs.page.mainFrame() || f.isDetached()) continue;
    try {
      if (title.test(await f.title())) out.push(f);
    } catch {
      /* a frame going away */
    }
  }
  return out;
}

/**
 * Polls the webviews titled `title` with `probe` until it returns something other than
 * undefined/false for one of them, and returns that. A frame that goes away meanwhile counts as
 * "not yet". On timeout the error lists the body text of each such webview.
 */
export async function waitForWebview<T>(vs: CodeServer, title: RegExp, what: string, probe: (f: Frame) => Promise<T | undefined | false>, timeout?: number): Promise<T> {
  let seen: string[] = [];
  return vs
    .waitFor(
      `${what} (webview ${String(title)})`,
      async () => {
        seen = [];
        for (const f of (await webviewFrames(vs, title)).reverse()) {
          try {
            seen.push((await f.locator('body').innerText({ timeout: 2000 })).trim());
            const v = await probe(f);
            if (v !== undefined && v !== false) return v;
          } catch {
            /* re-rendered under us: look again */
          }
        }
        return undefined;
      },
      timeout,
    )
    .catch((e: Error) => {
      throw new Error(`${e.message}\nwebviews ${String(title)} on screen:\n${seen.map((t) => `  ---\n  ${t.replace(/\n/g, '\n  ')}`).join('\n') || '  (none)'}`);
    });
}

/**
 * Clicks `selector` in the webview titled `title` once it is there and enabled (retrying when the
 * page is re-rendered between finding and clicking it).
 */
export async function clickInWebview(vs: CodeServer, title: RegExp, selector: string): Promise<void> {
  await waitForWebview(vs, title, `an enabled ${selector} to click`, async (f) => {
    const el = f.locator(selector).first();
    if (!(await el.count()) || !(await el.isEnabled())) return undefined;
    await el.click({ timeout: 2000 });
    return true;
  });
}

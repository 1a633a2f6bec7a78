/**
 * Browser time-to-editable: a fresh Chromium context (no local replica, no service worker) opens a
 * document's edit link; the figure is the editor's `concord:editable` performance mark (set when the
 * editor is editable with the document's content), counted from navigation start.
 */
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from '../../e2e/findChromium';

const EDITABLE_MARK = 'concord:editable';

/** One time-to-editable (ms) per fresh context, `times` contexts in a row. Checks the editor shows `expectedText`. */
export async function timeToEditable(url: string, expectedText: string, times: number): Promise<number[]> {
  const browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
  try {
    const results: number[] = [];
    for (let i = 0; i < times; i++) {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(url);
        await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, EDITABLE_MARK, { timeout: 120_000 });
        const markedAt = await page.evaluate((mark) => performance.getEntriesByName(mark)[0]!.startTime, EDITABLE_MARK);
        const text = await page.evaluate(() => (window as unknown as { __concord?: { getText(): string } }).__concord?.getText());
        if (text !== expectedText) throw new Error(`the editor shows ${text?.length ?? 'no'} characters, not the document's ${expectedText.length}`);
        results.push(markedAt);
      } finally {
        await context.close();
      }
    }
    return results;
  } finally {
    await browser.close();
  }
}

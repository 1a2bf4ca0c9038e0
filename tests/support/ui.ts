/** Helpers for the dialog tests: axe-core checks inside the shadow roots, and screenshots for review. */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';

export const UI_PAGE = '/tests/e2e/pages/ui.html';
const SHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** A Ferry UI host (`<ferry-ui data-ferry="report|consent|notice">`); Playwright's CSS locators pierce its open shadow root. */
export const ferryUi = (page: Page, kind: 'report' | 'consent' | 'notice'): Locator => page.locator(`ferry-ui[data-ferry="${kind}"]`);

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core (WCAG 2.1 A and AA rules, plus best practices) on the whole page; axe walks into
 * open shadow roots itself. Returns the violations, each with the offending nodes' targets.
 */
export const axeViolations = async (page: Page): Promise<AxeViolation[]> => {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run(ctx: unknown, o: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[] }> };
      }
    ).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
};

/** Saves a PNG under test-results/screenshots/ (git-ignored) for a person to look at. */
export const shot = async (page: Page, name: string): Promise<void> => {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
};

/**
 * Real-browser support: Debian's Chromium driven by playwright-core (Playwright's own browser
 * download cannot reach its host). Under CI=true a missing Chromium fails the suite; elsewhere
 * it is skipped with the reason. Install: `apt-get install chromium` (.ci/run does).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium'];

export const chromiumPath = CANDIDATES.find((p): p is string => !!p && existsSync(p));
export const mustRunBrowserTests = process.env.CI === 'true' || process.env.CI === '1';
export const chromiumMissing = chromiumPath ? undefined : `no Chromium at ${CANDIDATES.filter(Boolean).join(', ')}`;

/** Where screenshots go: test-results/dashboard (CI keeps test-results/), or SLIPWAY_SCREENSHOT_DIR. */
export const SCREENSHOT_DIR =
  process.env.SLIPWAY_SCREENSHOT_DIR ?? fileURLToPath(new URL('../../test-results/dashboard/', import.meta.url));

export async function launchChromium(): Promise<Browser> {
  if (!chromiumPath) throw new Error(`Chromium is missing (${chromiumMissing}); run: apt-get install chromium`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return chromium.launch({ executablePath: chromiumPath });
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png`, fullPage: true });
}

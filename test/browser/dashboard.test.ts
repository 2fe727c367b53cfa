/**
 * The dashboard end to end in Chromium against a real server on 127.0.0.1 (embedded PGlite,
 * demo provisioner): a user signs in, picks from the demo catalog, launches with the quote
 * shown, watches RUNNING arrive without a reload, runs actions, sees a typed error, edits
 * metadata, releases and sees the balance; the live stream resumes after a dropped connection with no lost or repeated event;
 * an admin grants credits, refreshes the pool, pages back through the event log (newest first)
 * and reads the lag charts. Screenshots: SCREENSHOT_DIR.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type App, createApp, type Listening, listen, loadConfig, mintToken } from '@slipway/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium, mustRunBrowserTests, shot } from './browser.js';

if (chromiumMissing && !mustRunBrowserTests) console.warn(`Skipping the browser tests: ${chromiumMissing}`);

describe.skipIf(chromiumMissing !== undefined && !mustRunBrowserTests)('dashboard in Chromium', () => {
  let dataDir: string;
  let app: App;
  let http: Listening;
  let browser: Browser;
  let base: string;
  let secret: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'slipway-browser-'));
    // The embedded demo, as `npm start` runs it: PGlite in a data dir, demo provisioner and pool.
    const config = loadConfig({ SLIPWAY_DATA_DIR: dataDir, LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0' });
    secret = config.jwtSecret;
    [app, browser] = await Promise.all([createApp(config), launchChromium()]);
    http = await listen(app.yoga, config.host, 0);
    base = new URL('/', http.url).href;
  });
  afterAll(async () => {
    await browser?.close();
    await http?.close();
    await app?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const gql = async (query: string, variables: Record<string, unknown>, token: string) => {
    const res = await app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  };
  const signIn = async (page: Page, token: string) => {
    await page.goto(base);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Machines' }).waitFor();
  };
  const status = (page: Page, value: string) => page.locator(`h1 [data-status="${value}"]`).waitFor();
  /** Form controls without an accessible name (a <label>, aria-label or aria-labelledby). */
  const unlabelled = (page: Page) =>
    page.locator('input, select, textarea').evaluateAll((controls) =>
      controls
        .filter((c) => !(c as HTMLInputElement).labels?.length && !c.getAttribute('aria-label'))
        .filter((c) => !c.getAttribute('aria-labelledby'))
        .map((c) => c.outerHTML),
    );

  it('user: sign in, launch with the quote, RUNNING without reload, actions, typed error, release, balance', async () => {
    const admin = await mintToken({ secret, userId: 'ops', role: 'admin' });
    const alice = await mintToken({ secret, userId: 'alice' });
    await gql('mutation { grantCredits(input: { accountId: "alice", amount: 200 }) { __typename } }', {}, admin);
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(10_000);

    await page.goto(base);
    // The embedded demo offers its token; a user pastes their own.
    await page.getByRole('button', { name: 'Use the demo token' }).waitFor();
    await shot(page, '01-sign-in');
    await signIn(page, alice);
    await expect(page.getByRole('link', { name: 'Admin' }).count()).resolves.toBe(0);
    await expect(page.getByTestId('balance').textContent()).resolves.toBe('200 cr');
    await page.locator('[data-live="live"]').waitFor();
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));

    await page.getByRole('link', { name: 'Launch' }).click();
    await page.getByLabel('Name').fill('web-1');
    await page.getByLabel('Labels').fill('team=ml');
    await page.getByLabel('Options (JSON)').fill('{"delayMs": 1500}');
    // The demo provisioner has a catalog: images and sizes are lists, and a size fills in the spec.
    await page.getByLabel('Image').selectOption('ubuntu-24.04');
    await page.getByLabel('Size').selectOption('medium');
    await expect(page.getByLabel('vCPU').count()).resolves.toBe(0);
    // medium is 2 vCPU, 2 GiB, 20 GB = 20 + 20 + 4 = 44 credits.
    await page.getByTestId('quote').getByText('44 cr').waitFor();
    await shot(page, '02-launch-catalog');
    // Back to a shape of one's own: vCPU, RAM and disk are typed in again.
    await page.getByLabel('Size').selectOption('');
    await page.getByLabel('vCPU').fill('2');
    // The quote follows the form: 2 vCPU, 1 GiB, 10 GB = 20 + 10 + 2 = 32 credits.
    await page.getByTestId('quote').getByText('32 cr').waitFor();
    await page.getByText('✓ Admitted').waitFor();
    await shot(page, '02-launch-quote');
    expect(await unlabelled(page)).toEqual([]);
    // Keyboard: Enter in a field submits the form, Escape closes the confirmation.
    await page.getByLabel('Name').press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.getByText('32 cr').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Review and launch' }).click();
    await dialog.getByText('32 cr').waitFor();
    await shot(page, '03-launch-confirm');
    await dialog.getByRole('button', { name: 'Launch' }).click();

    // At once on its page as PROVISIONING, then RUNNING as events arrive, without a reload.
    await status(page, 'PROVISIONING');
    await status(page, 'RUNNING');
    expect(await page.evaluate(() => 'sameDocument' in window)).toBe(true);
    await page.locator('tr[data-action="resource.created"]').waitFor();
    await shot(page, '04-machine-running');

    // A typed error from the API: a resize far beyond the wallet.
    await page.getByRole('button', { name: 'Resize' }).click();
    await page.getByLabel('vCPU').fill('64');
    await page.getByRole('dialog').getByRole('button', { name: 'Resize' }).click();
    await page.getByRole('alert').getByText('INSUFFICIENT_CREDITS').waitFor();
    await shot(page, '05-typed-error');

    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Stop' }).click();
    await status(page, 'STOPPED');

    await page.getByLabel('JSON object; saved as a merge patch').fill('{"owner": "alice"}');
    await page.getByRole('button', { name: 'Save metadata' }).click();
    await page.getByText('Saved', { exact: true }).waitFor();

    await page.getByRole('link', { name: 'Machines' }).first().click();
    const row = page.locator('tr[data-resource="web-1"]');
    await row.locator('[data-status="STOPPED"]').waitFor();
    expect(await row.getByRole('button', { name: /Copy SSH command/ }).count()).toBe(1);
    await shot(page, '06-machines');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, '07-machines-phone');
    await page.setViewportSize({ width: 1280, height: 860 });

    await row.getByRole('link', { name: 'web-1' }).click();
    await page.getByRole('button', { name: 'Release' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Release' }).click();
    await status(page, 'RELEASED');
    // Charged exactly the quote.
    await page.getByTestId('balance').getByText('168 cr').waitFor();
    const me = await gql('{ me { balance } }', {}, alice);
    expect(me.data).toEqual({ me: { balance: 168 } });
    await page.close();
  });

  it('live: resumes after a dropped connection with no lost and no repeated event', async () => {
    const alice = await mintToken({ secret, userId: 'alice' });
    const admin = await mintToken({ secret, userId: 'ops', role: 'admin' });
    await gql('mutation { grantCredits(input: { accountId: "alice", amount: 20 }) { __typename } }', {}, admin);
    const created = await gql(
      `mutation { createResource(input: { name: "live-1", provisioner: "demo", spec: { vcpu: 1, memoryMb: 512, diskGb: 1 } })
        { ... on MutationCreateResourceSuccess { data { id } } } }`,
      {},
      alice,
    );
    const id = (created.data as { createResource: { data: { id: string } } }).createResource.data.id;
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    await signIn(page, alice);
    await page.goto(`${base}#/resources/${id}`);
    await page.locator('[data-live="live"]').waitFor();
    await page.getByRole('heading', { name: 'Metadata' }).waitFor();
    // Let a first live event arrive, so the stream has a position to resume from.
    const patch = 'mutation($id: ID!, $p: JSON!) { updateResourceMetadata(id: $id, patch: $p) { __typename } }';
    await gql(patch, { id, p: { step: 0 } }, alice);
    await page.locator('tr[data-action="resource.metadata_updated"]').waitFor();

    // Record the stream's states from here on, to see it really went away and came back.
    await page.evaluate(() => {
      const states: string[] = [];
      Object.assign(window, { liveStates: states });
      new MutationObserver(() =>
        states.push(document.querySelector('[data-live]')?.getAttribute('data-live') ?? ''),
      ).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-live'] });
    });
    // Drop every connection; while the browser is away, two more events happen.
    http.server.closeAllConnections();
    await gql(patch, { id, p: { step: 1 } }, alice);
    await gql(patch, { id, p: { step: 2 } }, alice);
    await expect.poll(() => page.locator('tr[data-action="resource.metadata_updated"]').count()).toBe(3);
    await page.locator('[data-live="live"]').waitFor();
    const states = await page.evaluate(() => (window as unknown as { liveStates: string[] }).liveStates);
    expect(states).toContain('reconnecting');
    expect(states.at(-1)).toBe('live');
    const seqs = await page.locator('tr[data-seq]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-seq')));
    expect(new Set(seqs).size).toBe(seqs.length);
    await page.close();
  });

  it('admin: all resources with owner, grant credits, pool refresh, event log, lag chart', async () => {
    // More history than one page of the event log holds (below): 30 grants to another account.
    const ops = await mintToken({ secret, userId: 'ops', role: 'admin' });
    for (let i = 0; i < 30; i++) {
      await gql('mutation { grantCredits(input: { accountId: "bob", amount: 1 }) { __typename } }', {}, ops);
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(10_000);
    await page.goto(base);
    await page.getByRole('button', { name: 'Use the demo token' }).click();
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'All resources' }).waitFor();
    await page.getByLabel('Status').selectOption('ALL');
    await page.locator('tr[data-resource="web-1"]').getByText('alice').waitFor();
    await shot(page, '08-admin-resources');

    await page.getByRole('link', { name: 'Credits' }).click();
    await page.getByLabel('Account id').fill('alice');
    await page.getByLabel('Amount (negative removes)').fill('50');
    await page.getByLabel('Note').fill('quarterly top-up');
    expect(await unlabelled(page)).toEqual([]);
    await page.getByRole('button', { name: 'Grant credits' }).click();
    await page
      .getByTestId('grant-result')
      .getByText(/^alice now has/)
      .waitFor();
    const wallet = await gql('{ account(id: "alice") { balance } }', {}, ops);
    const balance = (wallet.data as { account: { balance: number } }).account.balance;
    expect(await page.getByTestId('grant-result').textContent()).toContain(`alice now has ${balance} cr`);
    await shot(page, '09-admin-credits');

    await page.getByRole('link', { name: 'Pool' }).click();
    await page.getByRole('button', { name: 'Refresh pool' }).click();
    await page
      .getByTestId('refresh-result')
      .getByText(/→ 4 machines/)
      .waitFor();
    await page.locator('tr[data-machine="demo-small-1"]').waitFor();
    await shot(page, '10-admin-pool');

    await page.getByRole('link', { name: 'Event log' }).click();
    await page.locator('tr[data-action="credits.granted"]').first().waitFor();
    await page.getByLabel('Severity').selectOption('CRITICAL');
    await expect.poll(() => page.locator('tr[data-action="credits.granted"]').count()).toBe(0);
    await page.getByLabel('Severity').selectOption('');
    // Newest first, a page of 25; older pages on demand, still newest first, each event once.
    const seqsShown = () =>
      page.locator('tr[data-seq]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));
    const firstPage = await seqsShown();
    // 25, or more if live events arrived since (they go on top).
    expect(firstPage.length).toBeGreaterThanOrEqual(25);
    expect(firstPage).toEqual([...firstPage].sort((a, b) => b - a));
    await shot(page, '11-admin-events');
    await page.getByRole('button', { name: /^Load older events/ }).click();
    await expect.poll(async () => (await seqsShown()).length).toBeGreaterThan(25);
    const both = await seqsShown();
    expect(both).toEqual([...new Set(both)].sort((a, b) => b - a));
    expect(both).toEqual(expect.arrayContaining(firstPage));

    await page.getByRole('link', { name: 'Lag' }).click();
    // web-1's release in the first test is one deletion-lag sample.
    await page
      .getByTestId('deletion-summary')
      .getByText(/^1 samples/)
      .waitFor();
    await page.locator('.chart canvas').first().waitFor();
    await shot(page, '12-admin-lag');
    await page.close();
  });

  it('users never see the admin console, and the API refuses them anyway', async () => {
    const alice = await mintToken({ secret, userId: 'alice' });
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    await signIn(page, alice);
    await page.goto(`${base}#/admin/pool`);
    await page.getByText('Admin pages need an admin token.').waitFor();
    const refused = await gql('{ poolAllocations { machineId } }', {}, alice);
    expect(JSON.stringify(refused.errors)).toContain('FORBIDDEN');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.close();
  });

  it('npm start: the bundled server serves the built dashboard and offers the demo token', async () => {
    const bundle = fileURLToPath(new URL('../../packages/server/dist/bundle/main.js', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'slipway-bundle-'));
    const proc = spawn(process.execPath, [bundle, 'serve'], {
      env: { ...process.env, SLIPWAY_DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const found = /Dashboard at (\S+)/.exec(out)?.[1];
          if (found) resolve(found);
        });
        proc.stderr.on('data', (d: Buffer) => {
          out += d.toString();
        });
        proc.once('exit', () => reject(new Error(`server exited:\n${out}`)));
      });
      const page = await browser.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(url);
      await page.getByRole('button', { name: 'Use the demo token' }).click();
      await page.getByRole('heading', { name: 'Machines' }).waitFor();
      await page.getByRole('link', { name: 'Admin' }).waitFor();
      await page.close();
    } finally {
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

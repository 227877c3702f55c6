import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../pipeline/app.js';
import { buildServer } from '../../pipeline/api/server.js';
import { hasChromium, launchChromium, warnIfNoChromium } from '../helpers/chromium.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';
import { startEmbeddedApp } from '../helpers/embedded-app.js';

warnIfNoChromium('dashboard-workers.test.ts');

const ADMIN = 'dashboard-admin-key-0123';
const USER = 'dashboard-user-key-0123';

/**
 * The Workers page and the "live workers" cell in headless Chromium, in embedded mode, where the
 * in-process runner of the serving process is the one worker: an admin sees it with the tasks it
 * runs, any key sees the count, and a non-admin is told why the list is empty.
 */
describe.skipIf(!hasChromium)('Workers page in headless Chromium', () => {
  let app: App & { dataDir: string };
  let server: FastifyInstance;
  let base: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    app = await startEmbeddedApp(
      { handlers: copyHandlers, workflows: new Map([['image', copyWorkflow]]) },
      { MEDIAFLOW_WORKER_CONCURRENCY: '2' },
    );
    server = await buildServer(app, { apiKeys: [USER], adminKeys: [ADMIN], rateLimit: false });
    base = await server.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
  });

  const useKey = (key: string) =>
    page.evaluate(
      (k) =>
        (
          globalThis as unknown as { localStorage: { setItem(n: string, v: string): void } }
        ).localStorage.setItem('mediaflow.apiKey', k),
      key,
    );

  it('lists the worker with its running tasks, and counts it in the overview', async () => {
    await page.goto(`${base}/`);
    await useKey(ADMIN);
    await page.goto(`${base}/#/workers`);
    await page.reload();
    const row = page.locator(`#workers tbody tr`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('td.pid').textContent()).toBe(String(process.pid));
    expect(await row.locator('td.load').textContent()).toBe('0 / 2');

    await app.store.putBytes(app.config.buckets.input, 'busy.jpg', 'SLOW 5000');
    const outcome = await app.orchestrator.submit({
      bucket: app.config.buckets.input,
      key: 'busy.jpg',
    });
    if (outcome.status === 'ignored') throw new Error(outcome.reason);
    const tasks = row.locator('td.tasks .task');
    await expect.poll(() => tasks.count(), { timeout: 10_000 }).toBe(2);
    expect(await tasks.first().getAttribute('data-job-id')).toBe(outcome.jobId);
    expect(await tasks.first().getAttribute('data-task-id')).toMatch(/^part-\d$/);
    expect(await row.locator('td.load').textContent()).toBe('2 / 2');

    await page.goto(`${base}/#/`);
    const live = page.locator('#overview [data-metric="live workers"]');
    await expect.poll(() => live.locator('.value').textContent()).toBe('1');
    expect(await live.getAttribute('href')).toBe('#/workers');
    expect(pageErrors).toEqual([]);
  });

  it('tells a non-admin key that workers are for admins', async () => {
    await useKey(USER);
    await page.goto(`${base}/#/workers`);
    await page.reload();
    await expect.poll(() => page.locator('#notice').textContent()).toContain('Only an admin key');
    expect(await page.locator('#workers tbody tr').count()).toBe(0);
    // The count is not a secret: the strip shows it to every key.
    await page.goto(`${base}/#/`);
    await expect
      .poll(() => page.locator('#overview [data-metric="live workers"] .value').textContent())
      .toBe('1');
  });
});

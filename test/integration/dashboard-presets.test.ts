import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../pipeline/api/server.js';
import { waitForEnd } from '../helpers/api-server.js';
import { hasChromium, launchChromium, warnIfNoChromium } from '../helpers/chromium.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';
import { startEmbeddedApp } from '../helpers/embedded-app.js';

warnIfNoChromium('dashboard-presets.test.ts');

/** The dashboard's preset list and submit form, in headless Chromium, with a presets file. */
describe.skipIf(!hasChromium)('dashboard: presets and submitting with one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-presets-'));
  const file = path.join(dir, 'presets.yaml');
  fs.writeFileSync(
    file,
    'presets:\n  - name: thumbs\n    kind: image\n    widths: [100]\n    formats: [webp]\n',
  );
  let app: Awaited<ReturnType<typeof startEmbeddedApp>>;
  let server: FastifyInstance;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    app = await startEmbeddedApp(
      { handlers: copyHandlers, workflows: new Map([['image' as const, copyWorkflow]]) },
      { MEDIAFLOW_PRESETS_FILE: file },
    );
    server = await buildServer(app, { rateLimit: false });
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${base}/`);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the presets and submits an object with the chosen one, then forced', async () => {
    await page.click('#submit summary');
    await expect
      .poll(() => page.locator('#presets tr[data-preset="thumbs"] td').allTextContents())
      .toEqual(['thumbs', 'image', 'file', 'widths 100, webp']);
    expect(await page.locator('#submit-preset option').allTextContents()).toContain(
      'thumbs (image)',
    );

    const key = 'uploads/a.jpg';
    await app.store.putBytes(app.config.buckets.input, key, 'an image, says the copy workflow');
    await page.fill('#submit-targets', `${app.config.buckets.input}/${key}`);
    await page.selectOption('#submit-preset', 'thumbs');
    await page.click('#submit-form button[type=submit]');
    await expect.poll(() => page.locator('#notice').textContent()).toBe('Submitted: 1 created');
    const row = page.locator('#jobs tbody tr').first();
    await expect.poll(() => row.locator('td').nth(1).textContent()).toBe('thumbs');
    const jobId = (await row.getAttribute('data-job-id'))!;
    const { stage } = await waitForEnd(app, jobId);

    // The job page offers to run a succeeded job again (force, same id).
    await page.click(`#jobs tr[data-job-id="${jobId}"] a`);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#job-run-again');
    await expect.poll(async () => (await app.jobs.get(jobId))!.stage).toBeGreaterThan(stage);
    expect((await waitForEnd(app, jobId)).state).toBe('succeeded');
    await page.goBack();

    await page.click('#submit summary');
    await page.fill('#submit-targets', `${app.config.buckets.input}/${key}`);
    await expect.poll(() => page.locator('#submit-preset option').count()).toBeGreaterThan(1);
    await page.selectOption('#submit-preset', 'thumbs');
    await page.check('#submit-force');
    await page.click('#submit-form button[type=submit]');
    await expect
      .poll(() => page.locator('#notice').textContent())
      .toBe('Submitted: 1 reprocessing');
    expect((await waitForEnd(app, jobId)).state).toBe('succeeded');

    await page.fill('#submit-targets', 'no-slash-here');
    await page.click('#submit-form button[type=submit]');
    await expect
      .poll(() => page.locator('#notice').textContent())
      .toContain('Expected bucket/key for each line');
    expect(pageErrors).toEqual([]);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../pipeline/app.js';
import { buildServer } from '../../pipeline/api/server.js';
import { startTriggers } from '../../pipeline/triggers/start.js';
import { API_KEY, auth } from '../helpers/api-server.js';
import { hasChromium, launchChromium, warnIfNoChromium } from '../helpers/chromium.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';
import { startEmbeddedApp } from '../helpers/embedded-app.js';

warnIfNoChromium('dashboard-job-page.test.ts');

/** How long the page may lag behind the API. */
const FOLLOW_MS = 2000;

/**
 * The job page in headless Chromium stays true through Cancel and Retry, whoever takes them: the
 * page's buttons or another client. Jobs run the media-free copy workflow (inspect, then three
 * parts), slowed down where a test needs a running job.
 */
describe.skipIf(!hasChromium)('job page in headless Chromium', () => {
  let app: App & { dataDir: string };
  let server: FastifyInstance;
  let base: string;
  let browser: Browser;
  let page: Page;
  let stopTriggers: (() => Promise<void>) | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    app = await startEmbeddedApp(
      { handlers: copyHandlers, workflows: new Map([['image', copyWorkflow]]) },
      { MEDIAFLOW_WORKER_CONCURRENCY: '2', MEDIAFLOW_MAX_INPUT_BYTES: String(64 * 1024) },
    );
    // Upload events start jobs, as in `serve`.
    stopTriggers = startTriggers(app).stop;
    server = await buildServer(app, { apiKeys: [API_KEY], rateLimit: false });
    base = await server.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.addInitScript(
      (key) =>
        (
          globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
        ).localStorage.setItem('mediaflow.apiKey', key),
      API_KEY,
    );
  });
  afterAll(async () => {
    await stopTriggers?.();
    await browser?.close();
    await server?.close();
    await app?.close();
  });

  const submit = async (key: string, body: string) => {
    await app.store.putBytes(app.config.buckets.input, key, body);
    const res = await server.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: auth(),
      payload: { items: [{ bucket: app.config.buckets.input, key }] },
    });
    expect(res.statusCode).toBe(202);
    return res.json().jobIds[0] as string;
  };
  const apiState = async (id: string) => (await app.jobs.get(id))!.state;
  const pageState = () => page.getAttribute('main p[data-state]', 'data-state');

  /** Waits until the page shows the API's state and `want` holds; the page may lag 2 s at most. */
  const follows = async (id: string, want: (state: string) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let since: number | undefined;
    let api = '';
    let shown: string | null = null;
    while (Date.now() < deadline) {
      api = await apiState(id);
      shown = await pageState();
      if (api === shown) {
        if (want(api)) return api;
        since = undefined;
      } else {
        since ??= Date.now();
        if (Date.now() - since > FOLLOW_MS)
          throw new Error(`the page shows ${shown} for over 2 s while the API says ${api}`);
      }
      await sleep(50);
    }
    throw new Error(`timed out: API ${api}, page ${shown}`);
  };

  it('Cancel asks first, then the page follows the API to cancelled', async () => {
    const id = await submit('page/cancel.jpg', 'SLOW 2500');
    await page.goto(`${base}/#/jobs/${id}`);
    await follows(id, (s) => s === 'running');

    const questions: string[] = [];
    page.once('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.dismiss();
    });
    await page.click('#job-cancel');
    await sleep(300);
    expect(questions).toEqual([expect.stringContaining('Cancel this job?')]);
    expect(await apiState(id)).toBe('running');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#job-cancel');
    expect(await follows(id, (s) => s === 'cancelled')).toBe('cancelled');
    expect(await page.locator('#job-cancel').count()).toBe(0);
    expect(await page.locator('#job-retry').count()).toBe(1);
  });

  it('Retry: the page follows the job again to its end, and shows the stage timeline', async () => {
    const id = await submit('page/retry.jpg', 'SLOW 800');
    await page.goto(`${base}/#/jobs/${id}`);
    await follows(id, (s) => s === 'running');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#job-cancel');
    await follows(id, (s) => s === 'cancelled');

    await page.click('#job-retry');
    await follows(id, (s) => s === 'queued' || s === 'running');
    // The old page stayed on "running" after the job ended: it must show the end too.
    expect(await follows(id, (s) => s === 'succeeded')).toBe('succeeded');

    // Plan order (inspect, then the parts), one stage each, with times for every task.
    const rows = page.locator('#tasks tr[data-task-id]');
    await expect.poll(() => rows.count()).toBe(4);
    expect(
      await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-task-id'))),
    ).toEqual(['inspect', 'part-0', 'part-1', 'part-2']);
    // Stage numbers keep counting across the retry: inspect in one stage, the parts in the next.
    const stages = (
      await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-stage')))
    ).map(Number);
    expect(stages.slice(1)).toEqual([stages[0]! + 1, stages[0]! + 1, stages[0]! + 1]);
    for (const duration of await page.locator('#tasks td.duration').allTextContents())
      expect(duration).toMatch(/^\d+(\.\d)? s$/);
    const parts = (await app.jobs.get(id))!.tasks;
    expect(Date.parse(parts['part-0']!.endedAt!)).toBeGreaterThan(
      Date.parse(parts['inspect']!.startedAt!),
    );
    expect(await page.locator('#output-list a[download]').count()).toBeGreaterThan(0);
  });

  it('offers no Retry for a permanent error', async () => {
    const id = await submit('page/permanent.jpg', 'FAIL');
    await page.goto(`${base}/#/jobs/${id}`);
    expect(await follows(id, (s) => s === 'failed')).toBe('failed');
    await expect
      .poll(() => page.locator('#job-error .error').textContent())
      .toMatch(/^MEDIA_UNREADABLE: /);
    expect(await page.locator('#job-retry').count()).toBe(0);
    expect(await page.locator('.actions').textContent()).toContain('Permanent error');
  });

  it('follows a cancel and a retry made elsewhere (the CLI, another tab)', async () => {
    const id = await submit('page/elsewhere.jpg', 'SLOW 1500');
    await page.goto(`${base}/#/jobs/${id}`);
    await follows(id, (s) => s === 'running');
    const call = async (method: 'DELETE' | 'POST', url: string) =>
      expect((await server.inject({ method, url, headers: auth() })).statusCode).toBeLessThan(300);
    await call('DELETE', `/v1/jobs/${id}`);
    await follows(id, (s) => s === 'cancelled');
    // The job's own stream ended with the job; the page must still see it start again.
    await sleep(500);
    await call('POST', `/v1/jobs/${id}/retry`);
    await follows(id, (s) => s === 'running');
    expect(await follows(id, (s) => s === 'succeeded')).toBe('succeeded');
    expect(pageErrors).toEqual([]);
  });

  it('operator view: counts per state, error codes, search, and retry all failed', async () => {
    // The jobs of the tests above: cancel.jpg cancelled, retry.jpg and elsewhere.jpg succeeded,
    // permanent.jpg failed.
    const overview = (await server.inject({ url: '/v1/overview', headers: auth() })).json();
    expect(overview).toMatchObject({
      jobs: { failed: 1, succeeded: 2, queued: 0, running: 0, cancelled: 1 },
      queueDepth: 0,
      runningTasks: 0,
      runner: 'in-process',
      concurrency: 2,
    });
    await page.goto(`${base}/#/`);
    const metric = (name: string) => page.locator(`#overview [data-metric="${name}"] .value`);
    await expect.poll(() => metric('failed').textContent()).toBe('1');
    expect(await metric('succeeded').textContent()).toBe('2');

    const failedRow = page.locator('#jobs tr[data-state="failed"]');
    await expect
      .poll(() => failedRow.locator('td.error-code').textContent())
      .toBe('MEDIA_UNREADABLE');
    // The search asks the API (GET /v1/jobs?q=), so its rows arrive a moment later.
    const shown = page.locator('#jobs tbody tr:not([hidden])');
    const asked = page.waitForRequest((r) => /\/v1\/jobs\?.*q=PERMANENT/.test(r.url()));
    await page.fill('#job-search', 'PERMANENT');
    await asked;
    await expect.poll(() => shown.count()).toBe(1);
    expect(await shown.getAttribute('data-state')).toBe('failed');
    await page.fill('#job-search', 'image');
    await expect.poll(() => shown.count()).toBe(4);
    await page.fill('#job-search', 'nothing-like-it');
    await expect.poll(() => page.locator('#no-match').isVisible()).toBe(true);
    expect(await shown.count()).toBe(0);
    await page.fill('#job-search', '');
    await expect.poll(() => shown.count()).toBe(4);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#retry-failed');
    await expect
      .poll(() => page.locator('#notice').textContent())
      .toBe('Retried 0 of 1 failed jobs (1 with permanent errors left alone)');
    expect(pageErrors).toEqual([]);
  });

  it('Upload: into the input bucket; its event starts the job, which the page opens', async () => {
    await page.goto(`${base}/#/`);
    await page.setInputFiles('#upload-file', {
      name: 'my clip?.jpg',
      mimeType: 'image/jpeg',
      buffer: Buffer.from('SLOW 10 uploaded through the dashboard'),
    });
    await page.waitForURL(/#\/jobs\/j[0-9a-f]{24}$/, { timeout: 15_000 });
    const id = /#\/jobs\/(j[0-9a-f]{24})$/.exec(page.url())![1]!;
    expect(await follows(id, (s) => s === 'succeeded')).toBe('succeeded');
    expect((await app.jobs.get(id))!.spec.source).toMatchObject({
      bucket: app.config.buckets.input,
      key: 'uploads/my clip_.jpg',
    });

    // Streamed and size-limited: past MEDIAFLOW_MAX_INPUT_BYTES it is refused, and nothing lands.
    const tooBig = await server.inject({
      method: 'PUT',
      url: '/v1/uploads/big.jpg',
      headers: { ...auth(), 'content-type': 'image/jpeg' },
      payload: Buffer.alloc(65 * 1024),
    });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await app.store.head(app.config.buckets.input, 'uploads/big.jpg')).toBeNull();
    const bad = await server.inject({
      method: 'PUT',
      url: '/v1/uploads/..%2Fescape.jpg',
      headers: { ...auth(), 'content-type': 'image/jpeg' },
      payload: 'x',
    });
    expect(bad.statusCode).toBe(400);
    expect(pageErrors).toEqual([]);
  });
});

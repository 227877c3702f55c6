import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../pipeline/app.js';
import { buildServer } from '../../pipeline/api/server.js';
import { WORKFLOWS } from '../../pipeline/plan/workflows.js';
import { HANDLERS } from '../../pipeline/tasks/registry.js';
import { API_KEY, auth, waitForEnd } from '../helpers/api-server.js';
import { copyHandlers, copyWorkflow } from '../helpers/copy-workflow.js';
import { hasChromium, launchChromium, warnIfNoChromium } from '../helpers/chromium.js';
import { startEmbeddedApp } from '../helpers/embedded-app.js';
import { makeSource } from '../helpers/video-fixtures.js';

/**
 * The page's globals, typed just enough for the functions run in the browser (the project
 * compiles without the DOM library). Casts vanish when compiled, so these functions stay
 * self-contained as page.evaluate requires.
 */
interface Video {
  currentTime: number;
  videoWidth: number;
  error: { message: string } | null;
  play(): Promise<void>;
}
interface PageGlobals {
  document: {
    querySelector(selector: string): Video | null;
    getElementById(id: string): { textContent: string | null } | null;
  };
  localStorage: { getItem(key: string): string | null };
}
warnIfNoChromium('dashboard.test.ts');

/**
 * The dashboard in real headless Chromium (Debian's package, driven by playwright-core): it
 * loads, asks for the API key, shows a running job's progress live, and plays a job's HLS output
 * with hls.js through the authenticated outputs route. Image jobs run the media-free copy
 * workflow (slow on purpose); the video job runs the real video workflow on samples/portrait.mp4.
 */
describe.skipIf(!hasChromium)('dashboard in headless Chromium', () => {
  let app: App & { dataDir: string };
  let server: FastifyInstance;
  let base: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    app = await startEmbeddedApp(
      {
        handlers: new Map([...HANDLERS, ...copyHandlers]),
        workflows: new Map([...WORKFLOWS, ['image', copyWorkflow]]),
      },
      { MEDIAFLOW_WORKER_CONCURRENCY: '2' },
    );
    server = await buildServer(app, { apiKeys: [API_KEY], rateLimit: false });
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

  const submit = async (key: string, body: string | Buffer, preset?: string) => {
    await app.store.putBytes(app.config.buckets.input, key, body);
    const res = await server.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: auth(),
      payload: {
        items: [{ bucket: app.config.buckets.input, key }],
        ...(preset ? { preset } : {}),
      },
    });
    expect(res.statusCode).toBe(202);
    return res.json().jobIds[0] as string;
  };

  /** Reads a progress element every 50 ms until `done` holds; returns every value seen. */
  const watchProgress = async (
    selector: string,
    done: () => Promise<boolean>,
    timeoutMs = 20_000,
  ) => {
    const seen: number[] = [];
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      // Checked before reading, so the last value read is never older than the end.
      const finished = await done();
      const value = await page
        .locator(selector)
        .evaluate((el) => (el as unknown as { value: number }).value)
        .catch(() => undefined);
      if (value !== undefined && seen.at(-1) !== value) seen.push(value);
      if (finished) return seen;
      await page.waitForTimeout(50);
    }
    throw new Error(`${selector} did not finish; saw ${seen.join(', ')}`);
  };

  it('loads, asks for the API key, and lists jobs once it has one', async () => {
    await page.goto(`${base}/`);
    await expect.poll(() => page.locator('#notice').textContent()).toContain('needs an API key');
    await page.fill('#api-key', API_KEY);
    await page.click('#login button[type=submit]');
    await expect.poll(() => page.locator('#notice').isHidden()).toBe(true);
    expect(await page.locator('#jobs thead th').allTextContents()).toEqual([
      'Source',
      'Preset',
      'State',
      'Error',
      'Progress',
      'Created',
      'Duration',
      'Updated',
    ]);
    // A first run explains the ways in; the operator strip counts every state.
    await expect.poll(() => page.locator('#empty').isVisible()).toBe(true);
    await expect
      .poll(() => page.locator('#overview [data-metric]').count())
      .toBeGreaterThanOrEqual(8);
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as PageGlobals).localStorage.getItem('mediaflow.apiKey'),
      ),
    ).toBe(API_KEY);
  });

  it('renders the API docs from /openapi.json', async () => {
    await page.goto(`${base}/docs`);
    await page.waitForSelector('section.operation', { timeout: 10_000 });
    const headings = await page.locator('section.operation h3').allTextContents();
    expect(headings).toEqual(
      expect.arrayContaining([
        'POST /v1/jobs',
        'GET /v1/jobs/{id}',
        'POST /v1/jobs/{id}/retry',
        'HEAD /v1/events/s3',
      ]),
    );
    expect(
      await page.locator('#docs table td').filter({ hasText: 'IDEMPOTENCY_CONFLICT' }).count(),
    ).toBe(1);
    await page.goto(`${base}/`);
  });

  it("shows a running job's progress live in the list and on its page", async () => {
    // Submitted after the page loaded: the row can only come from the SSE stream.
    const listed = await submit('live/list.jpg', 'SLOW 900');
    const row = `tr[data-job-id="${listed}"]`;
    await page.waitForSelector(row, { timeout: 10_000 });
    const listSeen = await watchProgress(
      `${row} progress`,
      async () => (await page.getAttribute(row, 'data-state')) === 'succeeded',
    );
    expect(listSeen.at(-1)).toBe(1);
    expect(listSeen.some((v) => v > 0 && v < 1)).toBe(true);
    expect(await page.locator(`${row} .state`).textContent()).toBe('succeeded');

    const opened = await submit('live/page.jpg', 'SLOW 900');
    await page.goto(`${base}/#/jobs/${opened}`);
    const pageSeen = await watchProgress(
      '#job-progress',
      async () =>
        (await page.locator('#tasks tr[data-task-id]').count()) === 4 &&
        (await page.getAttribute('main p[data-state]', 'data-state')) === 'succeeded',
    );
    expect(pageSeen.some((v) => v > 0 && v < 1)).toBe(true);
    expect(pageSeen.at(-1)).toBe(1);
    expect(await page.locator('#tasks tr[data-task-id] .state').allTextContents()).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    await expect.poll(() => page.locator('#manifest').textContent()).toContain(opened);
  });

  it(
    'plays the HLS output of a finished video job (currentTime advances) and shows its images ' +
      'and manifest',
    async () => {
      const id = await submit(
        'video/portrait.mp4',
        fs.readFileSync(path.resolve('samples/portrait.mp4')),
        'video-sd',
      );
      const job = await waitForEnd(app, id, 120_000);
      expect(job.state, `${job.error?.code} ${job.error?.message}`).toBe('succeeded');
      await page.goto(`${base}/#/jobs/${job.spec.id}`);
      await page.waitForSelector('video#player', { timeout: 20_000 });
      await page.evaluate(() =>
        (globalThis as unknown as PageGlobals).document.querySelector('video#player')!.play(),
      );
      await page.waitForFunction(
        () =>
          (globalThis as unknown as PageGlobals).document.querySelector('video#player')!
            .currentTime > 1,
        undefined,
        { timeout: 30_000 },
      );
      const state = await page.evaluate(() => {
        const { document } = globalThis as unknown as PageGlobals;
        const video = document.querySelector('video#player')!;
        return {
          error: video.error?.message ?? null,
          width: video.videoWidth,
          notice: document.getElementById('notice')!.textContent,
        };
      });
      expect(state.error).toBeNull();
      expect(state.width).toBeGreaterThan(0);
      expect(state.notice).not.toMatch(/Playback failed/);

      // Image outputs (poster, sprite) are fetched with the key and shown from blob URLs.
      const images = job.outputs.filter((o) => o.contentType.startsWith('image/')).length;
      expect(images).toBeGreaterThan(0);
      await page.waitForFunction(
        (n) =>
          [
            ...(
              globalThis as unknown as {
                document: { querySelectorAll(s: string): Iterable<{ naturalWidth: number }> };
              }
            ).document.querySelectorAll('.outputs img'),
          ].filter((img) => img.naturalWidth > 0).length === n,
        Math.min(images, 24),
        { timeout: 10_000 },
      );
      await expect.poll(() => page.locator('#manifest').textContent()).toContain(job.spec.id);
      expect(pageErrors).toEqual([]);
    },
  );

  it('shows the sprite tile of the moment under the mouse on the seek bar', async () => {
    // 16 s at the default 5 s per tile: four tiles, [0,5) [5,10) [10,15) [15,16].
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-seek-'));
    const source = makeSource(app.binaries, path.join(dir, 'seek.mp4'), {
      width: 320,
      height: 180,
      fps: 25,
      seconds: 16,
      gop: 50,
      audio: false,
    });
    const id = await submit('video/seek.mp4', fs.readFileSync(source), 'video-sd');
    fs.rmSync(dir, { recursive: true, force: true });
    const job = await waitForEnd(app, id, 180_000);
    expect(job.state, `${job.error?.code} ${job.error?.message}`).toBe('succeeded');
    const index = job.outputs.find((o) => o.role === 'sprite-index')!;
    const vtt = await server.inject({
      url: `/v1/jobs/${id}/outputs/${index.key.slice(job.spec.outputPrefix.length)}`,
      headers: auth(),
    });
    const cues = [
      ...vtt.body.matchAll(/([\d:.]+) --> ([\d:.]+)\n.*#xywh=(\d+),(\d+),(\d+),(\d+)/g),
    ].map((m) => {
      const secs = (t: string) => t.split(':').reduce((sum, part) => sum * 60 + Number(part), 0);
      return {
        start: secs(m[1]!),
        x: Number(m[3]),
        y: Number(m[4]),
        w: Number(m[5]),
        h: Number(m[6]),
      };
    });
    expect(cues.length).toBe(4);

    await page.goto(`${base}/#/jobs/${id}`);
    await page.waitForSelector('#seek-bar[data-previews="ready"]', { timeout: 20_000 });
    const bar = page.locator('#seek-bar');
    const box = (await bar.boundingBox())!;
    const preview = page.locator('#seek-preview');
    const positions = new Set<string>();
    for (const fraction of [0.1, 0.4, 0.7, 0.98]) {
      await bar.hover({ position: { x: fraction * box.width, y: box.height / 2 } });
      await expect.poll(() => preview.isVisible()).toBe(true);
      const time = Number(await preview.getAttribute('data-time'));
      const expected = cues.filter((c) => c.start <= time).at(-1)!;
      const style = await preview.evaluate((node) => {
        const s = (node as unknown as { style: Record<string, string> }).style;
        return {
          position: s.backgroundPosition,
          image: s.backgroundImage,
          width: s.width,
          height: s.height,
        };
      });
      expect(style, `at ${fraction} (${time} s)`).toEqual({
        position: `${-expected.x}px ${-expected.y}px`,
        image: expect.stringMatching(/^url\("blob:/),
        width: `${expected.w}px`,
        height: `${expected.h}px`,
      });
      positions.add(style.position);
    }
    // Each hover fell on another tile.
    expect(positions.size).toBe(4);
    await page.mouse.move(0, 0);
    await expect.poll(() => preview.isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 240_000);
});

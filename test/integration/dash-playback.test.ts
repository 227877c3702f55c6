import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../pipeline/app.js';
import { downloadOutputs, startEmbeddedApp, submitAndWait } from '../helpers/embedded-app.js';

const CHROMIUM = '/usr/bin/chromium';
const SHAKA = path.resolve('node_modules/shaka-player/dist/shaka-player.compiled.js');
const hasBrowser = fs.existsSync(CHROMIUM) && fs.existsSync(SHAKA);
if (!hasBrowser)
  console.warn(`dash-playback.test.ts skipped: needs ${CHROMIUM} and shaka-player in node_modules`);

const PAGE = `<!doctype html><meta charset="utf-8"><video id="v" muted></video>
<script src="/shaka.js"></script>
<script>
  window.result = (async () => {
    shaka.polyfill.installAll();
    const video = document.getElementById('v');
    const player = new shaka.Player();
    await player.attach(video);
    const errors = [];
    player.addEventListener('error', (e) => errors.push(String(e.detail && e.detail.code)));
    await player.load('/media/hls/manifest.mpd');
    await video.play();
    await new Promise((resolve) => video.addEventListener('ended', resolve, { once: true }));
    return {
      errors,
      videoError: video.error ? video.error.message : null,
      width: video.videoWidth,
      currentTime: video.currentTime,
      duration: video.duration,
      variants: player.getVariantTracks().map((t) => ({
        height: t.height,
        videoCodec: t.videoCodec,
        audioCodec: t.audioCodec,
      })),
      dropped: video.getVideoPlaybackQuality().droppedVideoFrames,
    };
  })().catch((e) => ({ thrown: String((e && e.code) || e) }));
</script>`;

/**
 * The DASH MPD of the default CMAF packaging played by a real DASH player: Shaka Player in
 * headless Chromium, from a loopback HTTP server over the job's downloaded outputs, to the end.
 */
describe.skipIf(!hasBrowser)('DASH playback with Shaka Player in headless Chromium', () => {
  let app: App & { dataDir: string };
  let server: http.Server;
  let base: string;
  let browser: Browser;
  let out: string;

  beforeAll(async () => {
    app = await startEmbeddedApp();
    const job = await submitAndWait(
      app,
      'dash/portrait.mp4',
      fs.readFileSync(path.resolve('samples/portrait.mp4')),
      'video-sd',
    );
    if (job.state !== 'succeeded') throw new Error(`${job.error?.code} ${job.error?.message}`);
    out = path.join(app.dataDir, 'out');
    await downloadOutputs(app, job, out);
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (file: string, type: string) => {
        res.writeHead(200, { 'content-type': type });
        fs.createReadStream(file).pipe(res);
      };
      if (url.pathname === '/') return void res.end(PAGE);
      if (url.pathname === '/shaka.js') return send(SHAKA, 'text/javascript');
      const file = path.resolve(out, `.${decodeURIComponent(url.pathname.slice('/media'.length))}`);
      if (!url.pathname.startsWith('/media/') || !file.startsWith(out) || !fs.existsSync(file))
        return void res.writeHead(404).end();
      const type = file.endsWith('.mpd') ? 'application/dash+xml' : 'video/mp4';
      send(file, type);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await app?.close();
  });

  it('loads the MPD, lists both renditions with the audio, and plays to the end', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${base}/`);
    const result = (await page.evaluate(
      () => (globalThis as unknown as { result: Promise<unknown> }).result,
    )) as Record<string, unknown>;
    expect(result.thrown).toBeUndefined();
    expect(result).toMatchObject({ errors: [], videoError: null });
    expect(result.width).toBeGreaterThan(0);
    expect(result.currentTime as number).toBeGreaterThan(4.5);
    const variants = result.variants as Array<{ height: number; audioCodec: string }>;
    expect(variants.map((v) => v.height).sort()).toEqual([426, 640]);
    expect(variants.every((v) => v.audioCodec === 'mp4a.40.2')).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});

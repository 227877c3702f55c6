import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../pipeline/app.js';
import { waitForJobs } from '../../pipeline/jobs/wait.js';
import { listKeys, startEmbeddedApp } from '../helpers/embedded-app.js';

const PHOTO = path.resolve('samples/photo.jpg');

describe('image jobs through the embedded pipeline', () => {
  let app: App & { dataDir: string };
  beforeAll(async () => {
    app = await startEmbeddedApp();
  });
  afterAll(() => app.close());

  const run = async (key: string, file: string, preset?: string) => {
    await app.store.upload(app.config.buckets.input, key, file, { contentType: 'image/jpeg' });
    const outcome = await app.orchestrator.submit({
      bucket: app.config.buckets.input,
      key,
      ...(preset ? { preset } : {}),
    });
    if (outcome.status === 'ignored') throw new Error(outcome.reason);
    const [job] = await waitForJobs(app.jobs, [outcome.jobId]);
    return job!;
  };

  it('writes the width ladder in three formats, and a manifest listing them', async () => {
    const job = await run('photos/photo.jpg', PHOTO);
    expect(job.error).toBeUndefined();
    expect(job.state).toBe('succeeded');
    const widths = [...new Set(job.outputs.map((o) => o.width))].sort((a, b) => a! - b!);
    expect(widths).toEqual([320, 640, 1280, 1920]);
    expect(new Set(job.outputs.map((o) => o.format))).toEqual(new Set(['jpeg', 'webp', 'avif']));
    const keys = await listKeys(app, app.config.buckets.output, job.spec.outputPrefix);
    expect(job.spec.outputPrefix).toBe(
      `${app.config.buckets.input}/photos/photo.jpg/image/${job.spec.id}/`,
    );
    expect(keys).toContain(`${job.spec.outputPrefix}manifest.json`);
    expect(keys).toHaveLength(13);
    const webp = await app.store.getBytes(
      app.config.buckets.output,
      `${job.spec.outputPrefix}w640.webp`,
    );
    const meta = await sharp(webp).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 640 });
    expect(meta.exif).toBeUndefined();
  });

  it('applies the shipped watermark logo in the watermarked preset', async () => {
    const plain = await run('wm/plain.jpg', PHOTO);
    const marked = await run('wm/marked.jpg', PHOTO, 'image-watermarked');
    expect(marked.state).toBe('succeeded');
    const pixels = async (key: string) => {
      const bytes = await app.store.getBytes(app.config.buckets.output, key);
      // The logo sits bottom-right: compare that corner's pixels with and without it.
      return sharp(bytes).extract({ left: 520, top: 340, width: 100, height: 60 }).raw().toBuffer();
    };
    const a = await pixels(`${plain.spec.outputPrefix}w640.jpg`);
    const b = await pixels(`${marked.spec.outputPrefix}w640.jpg`);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff += Math.abs(a[i]! - b[i]!);
    expect(diff / a.length).toBeGreaterThan(5);
  });

  it(
    'records a typed error for a file that is not an ' + 'image, and leaves nothing behind',
    async () => {
      const job = await run('bad/not-a-photo.jpg', path.resolve('package.json'));
      expect(job.state).toBe('failed');
      expect(job.error?.code).toMatch(/^MEDIA_/);
      expect(job.tasks['image']!.attempts).toBe(1);
      expect(
        await listKeys(app, app.config.buckets.output, `${app.config.buckets.input}/bad/`),
      ).toEqual([]);
    },
  );
});

import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBinaries } from '../../functions/ffmpeg/binaries.js';
import { startEmbeddedApp, submitAndWait } from '../helpers/embedded-app.js';
import { ffmpeg, makeSource, tempDir } from '../helpers/video-fixtures.js';

/**
 * A video preset's logo from a bucket object in any image format (a JPEG here, stored without an
 * extension): the task decodes it with sharp and hands ffmpeg a PNG it wrote itself.
 */
describe('a video watermark logo from a bucket object', () => {
  let app: Awaited<ReturnType<typeof startEmbeddedApp>>;
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir('video-logo');
    const file = path.join(dir, 'presets.yaml');
    fs.writeFileSync(
      file,
      `presets:
  - name: logo-clip
    kind: video
    ladder: [240]
    x264Preset: ultrafast
    watermark:
      type: image
      source: { bucket: logos-${path.basename(dir).slice(-6).toLowerCase()}, key: brand }
      position: top-right
      margin: 0
      opacity: 1
      scale: 0.25
`,
    );
    app = await startEmbeddedApp({}, { MEDIAFLOW_PRESETS_FILE: file });
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('overlays it where the preset says', async () => {
    const bucket = app.config.catalog.presets.find((p) => p.name === 'logo-clip')!;
    if (
      bucket.kind !== 'video' ||
      bucket.watermark?.type !== 'image' ||
      !('bucket' in bucket.watermark.source)
    )
      throw new Error('unexpected preset');
    const { bucket: logos, key } = bucket.watermark.source;
    await app.store.ensureBucket(logos);
    const red = await sharp({
      create: { width: 200, height: 100, channels: 3, background: '#ff0000' },
    })
      .jpeg()
      .toBuffer();
    await app.store.putBytes(logos, key, red, { contentType: 'image/jpeg' });

    const bin = await resolveBinaries();
    const clip = makeSource(bin, path.join(dir, 'clip.mp4'), {
      width: 426,
      height: 240,
      fps: 24,
      seconds: 1,
      gop: 24,
      audio: false,
    });
    const job = await submitAndWait(app, 'clip.mp4', fs.readFileSync(clip), 'logo-clip');
    expect([job.state, job.error?.message]).toEqual(['succeeded', undefined]);
    const mp4 = job.outputs.find((o) => o.role === 'mp4')!;
    const out = path.join(dir, 'out.mp4');
    await app.store.download(job.spec.outputBucket, mp4.key, out);
    ffmpeg(bin, ['-i', out, '-frames:v', '1', path.join(dir, 'frame.png')]);
    // The logo is 25% of 426 = 106 px wide, 53 tall, in the top-right corner: red there.
    const pixel = async (left: number, top: number) => [
      ...(await sharp(path.join(dir, 'frame.png'))
        .extract({ left, top, width: 1, height: 1 })
        .raw()
        .toBuffer()),
    ];
    const [r, g, b] = await pixel(426 - 40, 20);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(60);
    expect(b).toBeLessThan(60);
  });
});

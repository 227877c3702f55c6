import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietContext } from '../../functions/context.js';
import { MediaflowError } from '../../functions/errors.js';
import type { ImageParamsInput } from '../../functions/image/params.js';
import { type ImageResult, processImage } from '../../functions/image/process-image.js';
import { configureSharp } from '../../functions/image/sharp-settings.js';
import {
  colourDistance,
  gifWithFrames,
  locateCorpus,
  photoLike,
  pixelAt,
  pngDeclaring,
  quadrants,
  type Rgb,
  solid,
} from '../helpers/image-fixtures.js';

const WATERMARK_PNG = path.resolve(import.meta.dirname, '../../samples/assets/watermark.png');
const RED: Rgb = [255, 0, 0];
const GREEN: Rgb = [0, 255, 0];
const BLUE: Rgb = [0, 0, 255];
const WHITE: Rgb = [255, 255, 255];

let dir: string;
beforeAll(() => {
  configureSharp();
  dir = mkdtempSync(path.join(os.tmpdir(), 'mediaflow-image-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a fixture under the test folder and returns its path. */
function put(name: string, data: Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, data);
  return file;
}

/** Runs processImage in a fresh scratch folder. */
async function run(
  file: string,
  params: ImageParamsInput,
  signal?: AbortSignal,
): Promise<ImageResult> {
  const scratch = await mkdtemp(path.join(dir, 'scratch-'));
  return processImage(file, params, quietContext(scratch, signal));
}

/** The typed error processImage threw (fails the test if it resolved or threw something else). */
async function errorOf(promise: Promise<unknown>): Promise<MediaflowError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected a MediaflowError').toBeInstanceOf(MediaflowError);
  return error as MediaflowError;
}

describe('orientation, colour and metadata', () => {
  it('turns an EXIF-rotated photo upright, with no EXIF or GPS left in any output', async () => {
    // The upright picture is 400x300 with four coloured quadrants. It is stored turned a quarter
    // counter-clockwise (300x400) with orientation 6, which tells viewers to turn it back
    // clockwise.
    const upright = await quadrants(400, 300, [RED, GREEN, BLUE, WHITE]).png().toBuffer();
    const stored = await sharp(upright).rotate(270).toBuffer();
    const file = put(
      'rotated.jpg',
      await sharp(stored)
        .withExif({
          IFD0: { Copyright: 'mediaflow test' },
          IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' },
        })
        .withMetadata({ orientation: 6 })
        .jpeg({ quality: 95 })
        .toBuffer(),
    );
    const input = await sharp(file).metadata();
    expect([input.width, input.height, input.orientation]).toEqual([300, 400, 6]);
    // GPS lives in its own IFD; its tags are binary
    expect(input.exif?.includes(Buffer.from('GPS'))).toBe(false);
    expect(input.exif?.length).toBeGreaterThan(0);

    const result = await run(file, { widths: [200, 1000] });
    expect(result.source).toEqual({
      format: 'jpeg',
      width: 400,
      height: 300,
      orientation: 6,
      frames: 1,
    });
    expect(result.outputs.map((o) => `${o.width}x${o.height} ${o.format}`)).toEqual([
      '200x150 jpeg',
      '200x150 webp',
      '200x150 avif',
      '400x300 jpeg',
      '400x300 webp',
      '400x300 avif',
    ]);
    for (const output of result.outputs) {
      const meta = await sharp(output.file).metadata();
      expect(meta.exif, `${output.file} carries EXIF`).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(meta.iptc).toBeUndefined();
      expect(meta.orientation).toBeUndefined();
      const { width, height } = output;
      const at = (fx: number, fy: number) =>
        pixelAt(output.file, Math.round(width * fx), Math.round(height * fy));
      expect(colourDistance(await at(0.25, 0.25), RED)).toBeLessThan(40);
      expect(colourDistance(await at(0.75, 0.25), GREEN)).toBeLessThan(40);
      expect(colourDistance(await at(0.25, 0.75), BLUE)).toBeLessThan(40);
      expect(colourDistance(await at(0.75, 0.75), WHITE)).toBeLessThan(40);
    }
  });

  it('converts a wide-gamut (Display P3) source to sRGB and tags the output sRGB', async () => {
    // The same red, stored as P3 numbers with a P3 profile: P3 values differ from sRGB values.
    const srgbRed: Rgb = [220, 40, 40];
    const file = put(
      'p3.jpg',
      await solid(64, 64, srgbRed).withIccProfile('p3').jpeg({ quality: 100 }).toBuffer(),
    );
    const stored = await sharp(file, { ignoreIcc: true }).raw().toBuffer();
    expect(colourDistance([stored[0]!, stored[1]!, stored[2]!], srgbRed)).toBeGreaterThan(10);

    const srgbIcc = (
      await sharp(await solid(8, 8, srgbRed).withIccProfile('srgb').png().toBuffer()).metadata()
    ).icc;
    const result = await run(file, { widths: [32], formats: ['jpeg', 'webp', 'avif'] });
    for (const output of result.outputs) {
      const { data } = await sharp(output.file, { ignoreIcc: true })
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect(colourDistance([data[0]!, data[1]!, data[2]!], srgbRed), output.format).toBeLessThan(
        6,
      );
      expect(
        (await sharp(output.file).metadata()).icc?.equals(srgbIcc!),
        `${output.format} has the sRGB profile`,
      ).toBe(true);
    }
  });
});

describe('the input allow-list', () => {
  it('decodes every allowed format (8 and 16 bit), flattening alpha only for JPEG', async () => {
    const colour: Rgb = [200, 100, 50];
    const base = solid(64, 48, colour);
    const inputs: [string, Buffer, string][] = [
      ['in.jpg', await base.clone().jpeg({ quality: 95 }).toBuffer(), 'jpeg'],
      ['in16.png', await base.clone().toColourspace('rgb16').png().toBuffer(), 'png'],
      ['in.webp', await base.clone().webp({ lossless: true }).toBuffer(), 'webp'],
      ['in.avif', await base.clone().avif({ quality: 90 }).toBuffer(), 'avif'],
      ['in.gif', await base.clone().gif().toBuffer(), 'gif'],
      ['in.tif', await base.clone().tiff().toBuffer(), 'tiff'],
    ];
    for (const [name, data, format] of inputs) {
      const result = await run(put(name, data), { widths: [32], formats: ['jpeg', 'webp'] });
      expect(result.source.format, name).toBe(format);
      for (const output of result.outputs)
        expect(
          colourDistance(await pixelAt(output.file, 5, 5), colour),
          `${name} -> ${output.format}`,
        ).toBeLessThan(12);
    }

    const translucent = await sharp({
      create: {
        width: 64,
        height: 48,
        channels: 4,
        background: { r: 200, g: 100, b: 50, alpha: 0.5 },
      },
    })
      .png()
      .toBuffer();
    const [jpeg, webp] = (
      await run(put('alpha.png', translucent), { widths: [32], formats: ['jpeg', 'webp'] })
    ).outputs;
    expect((await sharp(jpeg!.file).metadata()).hasAlpha).toBe(false);
    // half over white
    expect(colourDistance(await pixelAt(jpeg!.file, 5, 5), [228, 178, 153])).toBeLessThan(12);
    const { data } = await sharp(webp!.file).raw().toBuffer({ resolveWithObject: true });
    expect(Math.abs(data[3]! - 128)).toBeLessThan(4);
  });
});

describe('the width ladder', () => {
  it('makes every width (never upscaled) in every format, with generated names', async () => {
    const file = put(
      'ladder.jpg',
      await (await photoLike(1000, 750)).jpeg({ quality: 85 }).toBuffer(),
    );
    const progress: number[] = [];
    const scratch = await mkdtemp(path.join(dir, 'scratch-'));
    const result = await processImage(
      file,
      {},
      { ...quietContext(scratch), onProgress: (f) => progress.push(f) },
    );

    expect(result.outputs.map((o) => `${path.basename(o.file)} ${o.width}x${o.height}`)).toEqual([
      'w320.jpg 320x240',
      'w320.webp 320x240',
      'w320.avif 320x240',
      'w640.jpg 640x480',
      'w640.webp 640x480',
      'w640.avif 640x480',
      'w1000.jpg 1000x750',
      'w1000.webp 1000x750',
      'w1000.avif 1000x750',
    ]);
    for (const output of result.outputs) {
      expect(path.dirname(path.dirname(output.file))).toBe(scratch);
      const meta = await sharp(output.file).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
        format: output.format === 'avif' ? 'heif' : output.format,
        width: output.width,
        height: output.height,
      });
      expect(readFileSync(output.file).length).toBe(output.bytes);
    }
    expect(progress).toHaveLength(9);
    expect(progress.at(-1)).toBe(1);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
  });
});

describe('watermarks', () => {
  const grey: Rgb = [128, 128, 128];

  it('draws the logo at its anchor, with its opacity, and nowhere else', async () => {
    const file = put('grey.png', await solid(800, 600, grey).png().toBuffer());
    const params = { widths: [800], formats: ['webp'] as const, quality: { webp: 95 } };
    const plain = (await run(file, { ...params, formats: ['webp'] })).outputs[0]!;
    const marked = (
      await run(file, {
        ...params,
        formats: ['webp'],
        watermark: {
          type: 'image',
          file: WATERMARK_PNG,
          position: 'bottom-right',
          scale: 0.25,
          margin: 0.02,
          opacity: 0.7,
        },
      })
    ).outputs[0]!;

    // 0.25 x 800 = 200 px wide, 75 high (the logo is 256x96), 16 px from the bottom-right corner:
    // x 584..784, y 509..584. Its middle is the logo's blue badge (#1d4ed8 at 85% alpha).
    const centre = await pixelAt(marked.file, 684, 546);
    expect(colourDistance(await pixelAt(plain.file, 684, 546), grey)).toBeLessThan(4);
    // 0.7 x 0.85 of blue over grey: about (69, 98, 180).
    expect(colourDistance(centre, [69, 98, 180])).toBeLessThan(14);
    // Opacity applied: not the logo's own colour.
    expect(colourDistance(centre, [29, 78, 216])).toBeGreaterThan(30);
    for (const [x, y] of [
      [100, 100],
      [400, 300],
      [684, 480],
      [560, 546],
      [790, 546],
      [684, 595],
    ]) {
      expect(
        colourDistance(await pixelAt(marked.file, x!, y!), grey),
        `(${x}, ${y}) is untouched`,
      ).toBeLessThan(4);
    }
  });

  it('renders text (escaped, drawn as the characters given) at the chosen anchor', async () => {
    const dark: Rgb = [30, 30, 30];
    const file = put('dark.png', await solid(640, 480, dark).png().toBuffer());
    const text = '<b>&copy; "mediaflow"</b>';
    const result = await run(file, {
      widths: [640],
      formats: ['webp'],
      quality: { webp: 95 },
      watermark: { type: 'text', text, position: 'top-left', scale: 0.5, margin: 0.05, opacity: 1 },
    });
    const { data, info } = await sharp(result.outputs[0]!.file)
      .raw()
      .toBuffer({ resolveWithObject: true });
    const brightIn = (x0: number, y0: number, x1: number, y1: number): number => {
      let count = 0;
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++)
          if (data[(y * info.width + x) * info.channels]! > 150) count++;
      return count;
    };
    // Text box: 32 px margin, 320 px wide, starting top-left.
    expect(brightIn(32, 32, 352, 100)).toBeGreaterThan(300);
    expect(brightIn(0, 0, 640, 30)).toBe(0);
    expect(brightIn(360, 0, 640, 480)).toBe(0);
    expect(brightIn(0, 120, 640, 480)).toBe(0);
  });

  it('refuses an SVG passed off as the logo', async () => {
    const svg = put(
      'logo.png',
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" ' +
          'height="10"/></svg>',
      ),
    );
    const file = put('grey-small.png', await solid(100, 100, grey).png().toBuffer());
    const error = await errorOf(
      run(file, { widths: [100], formats: ['jpeg'], watermark: { type: 'image', file: svg } }),
    );
    expect(error.code).toBe('MEDIA_REFUSED');
  });
});

describe('animated sources', () => {
  async function threeFrameGif(): Promise<string> {
    const frames = Buffer.concat(
      await Promise.all(
        [RED, GREEN, BLUE].map((c) => solid(120, 90, c).ensureAlpha().raw().toBuffer()),
      ),
    );
    const gif = await sharp(frames, {
      raw: { width: 120, height: 270, channels: 4, pageHeight: 90 },
    })
      .gif({ delay: [100, 200, 300], loop: 0 })
      .toBuffer();
    return put('three.gif', gif);
  }

  it(
    'keeps the animation (frames, timing) in WebP and ' + 'uses the first frame for JPEG and AVIF',
    async () => {
      const file = await threeFrameGif();
      const result = await run(file, { widths: [64, 640] });
      expect(result.source).toEqual({
        format: 'gif',
        width: 120,
        height: 90,
        orientation: 1,
        frames: 3,
      });
      expect(result.outputs.map((o) => `${o.width}x${o.height} ${o.format} ${o.frames}`)).toEqual([
        '64x48 jpeg 1',
        '64x48 webp 3',
        '64x48 avif 1',
        '120x90 jpeg 1',
        '120x90 webp 3',
        '120x90 avif 1',
      ]);
      for (const output of result.outputs) {
        const meta = await sharp(output.file, { animated: true }).metadata();
        if (output.format === 'webp') {
          expect(meta.pages).toBe(3);
          expect(meta.delay).toEqual([100, 200, 300]);
          expect(meta.loop).toBe(0);
          for (const [page, colour] of [RED, GREEN, BLUE].entries()) {
            expect(
              colourDistance(await pixelAt(output.file, 10, 10, page), colour),
              `frame ${page}`,
            ).toBeLessThan(40);
          }
        } else {
          expect(meta.pages ?? 1).toBe(1);
          expect(colourDistance(await pixelAt(output.file, 10, 10), RED)).toBeLessThan(40);
        }
      }
    },
  );

  it('keeps an animated WebP source animated too', async () => {
    const webp = put(
      'three.webp',
      await sharp(await threeFrameGif(), { animated: true })
        .webp({ lossless: true })
        .toBuffer(),
    );
    const result = await run(webp, { widths: [64], formats: ['webp', 'jpeg'] });
    expect(result.source).toMatchObject({ format: 'webp', frames: 3 });
    expect(result.outputs.map((o) => `${o.format} ${o.frames}`)).toEqual(['jpeg 1', 'webp 3']);
    expect((await sharp(result.outputs[1]!.file, { animated: true }).metadata()).delay).toEqual([
      100, 200, 300,
    ]);
  });

  it('watermarks every frame of an animation', async () => {
    const file = await threeFrameGif();
    const result = await run(file, {
      widths: [120],
      formats: ['webp'],
      quality: { webp: 95 },
      watermark: {
        type: 'image',
        file: WATERMARK_PNG,
        position: 'top-left',
        scale: 0.5,
        margin: 0,
        opacity: 1,
      },
    });
    const output = result.outputs[0]!;
    // The badge covers x 0..60, y 0..~22; its first white bar crosses (40, 8). On a pure red,
    // green or blue frame, a near-white pixel there can only come from the logo.
    for (const page of [0, 1, 2]) {
      const bar = await pixelAt(output.file, 40, 8, page);
      expect(
        Math.min(...bar),
        `frame ${page} has the logo's white bar, got ${bar.join(',')}`,
      ).toBeGreaterThan(200);
      expect(
        colourDistance(await pixelAt(output.file, 100, 70, page), [RED, GREEN, BLUE][page]!),
      ).toBeLessThan(40);
    }
  });
});

describe('hostile and broken inputs', () => {
  it('ends each in the right permanent error, quickly, with bounded memory', async () => {
    const jpeg = await (await photoLike(640, 480, 7)).jpeg({ quality: 90 }).toBuffer();
    const png = await (await photoLike(320, 240, 8)).png().toBuffer();
    const badCrc = Buffer.from(png);
    badCrc[badCrc.length - 20]! ^= 0xff; // inside the last IDAT: its CRC no longer matches
    const badHeader = Buffer.from(jpeg);
    badHeader.fill(0x11, 20, 400);
    const cases: [string, Buffer, string][] = [
      ['empty.jpg', Buffer.alloc(0), 'MEDIA_EMPTY'],
      ['truncated.jpg', jpeg.subarray(0, jpeg.length >> 1), 'MEDIA_UNREADABLE'],
      ['truncated.png', png.subarray(0, png.length >> 1), 'MEDIA_UNREADABLE'],
      ['bad-crc.png', badCrc, 'MEDIA_UNREADABLE'],
      ['bad-header.jpg', badHeader, 'MEDIA_UNREADABLE'],
      ['text.jpg', Buffer.from('this is not an image\n'), 'MEDIA_UNREADABLE'],
      [
        'svg.jpg',
        Buffer.from(
          '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="50000" ' +
            'height="50000"/>',
        ),
        'MEDIA_REFUSED',
      ],
      ['pdf.png', Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\n'), 'MEDIA_REFUSED'],
      ['bmp.png', Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]), 'MEDIA_UNSUPPORTED'],
      ['bomb.png', pngDeclaring(100_000, 100_000), 'MEDIA_LIMIT_EXCEEDED'],
      ['bomb-frames.gif', gifWithFrames(5000), 'MEDIA_LIMIT_EXCEEDED'],
      ['bomb-canvas.gif', gifWithFrames(100, 2000, 2000), 'MEDIA_LIMIT_EXCEEDED'],
    ];
    const before = process.memoryUsage().rss;
    for (const [name, data, code] of cases) {
      const started = performance.now();
      const error = await errorOf(
        run(put(name, data), { widths: [320], formats: ['jpeg', 'webp'] }),
      );
      const ms = performance.now() - started;
      expect(error.code, `${name}: ${error.message}`).toBe(code);
      expect(error.retryable, name).toBe(false);
      expect(ms, `${name} took ${ms.toFixed(0)} ms`).toBeLessThan(2000);
    }
    const grown = (process.memoryUsage().rss - before) / 1024 / 1024;
    expect(grown, `RSS grew ${grown.toFixed(1)} MB`).toBeLessThan(64);
  });

  it('says which limit was exceeded, from the header alone', async () => {
    expect((await errorOf(run(put('bomb2.png', pngDeclaring(100_000, 100_000)), {}))).message).toBe(
      'The image is 100000 x 100000 pixels (10000.0 MP), above the limit of 100.0 MP.',
    );
    expect((await errorOf(run(put('frames2.gif', gifWithFrames(501)), {}))).message).toBe(
      'The image has 501 frames, above the limit of 500.',
    );
    const small = put('small.png', await solid(200, 100, [1, 2, 3]).png().toBuffer());
    expect((await errorOf(run(small, { limits: { maxPixels: 19_999 } }))).code).toBe(
      'MEDIA_LIMIT_EXCEEDED',
    );
    expect(
      (await run(small, { limits: { maxPixels: 20_000 }, formats: ['jpeg'] })).outputs,
    ).toHaveLength(1);
  });

  it(
    'decodes only the first frame of a big-canvas ' + 'animation when no WebP is asked for',
    async () => {
      // 100 frames of 4 MP is over the total-pixel limit only if the animation is kept.
      const result = await run(put('canvas.gif', gifWithFrames(100, 2000, 2000)), {
        widths: [64],
        formats: ['jpeg'],
      });
      expect(result.outputs.map((o) => `${o.width}x${o.height} ${o.frames}`)).toEqual(['64x64 1']);
    },
  );

  it('judges a misnamed file by its content', async () => {
    const file = put(
      'actually-a-png.jpg',
      await quadrants(100, 80, [RED, RED, BLUE, BLUE]).png().toBuffer(),
    );
    const result = await run(file, { widths: [50], formats: ['jpeg'] });
    expect(result.source.format).toBe('png');
    expect(colourDistance(await pixelAt(result.outputs[0]!.file, 25, 5), RED)).toBeLessThan(40);
  });

  it(
    'keeps the SVG file loader blocked in libvips itself, while the text watermark renderer ' +
      'works',
    async () => {
      const svg = put(
        'direct.svg',
        Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
      );
      // A blocked loader is invisible to libvips' format detection, so the file reads as
      // unsupported, while the same bytes through the (open) buffer loader render: the block, not a
      // missing librsvg.
      await expect(sharp(svg).toBuffer()).rejects.toThrow(/unsupported image format/i);
      await expect(sharp(readFileSync(svg)).png().toBuffer()).resolves.toBeInstanceOf(Buffer);
    },
  );

  it('stops with CANCELLED when the signal has fired', async () => {
    const file = put('cancel.png', await solid(100, 100, [9, 9, 9]).png().toBuffer());
    const controller = new AbortController();
    controller.abort();
    expect((await errorOf(run(file, {}, controller.signal))).code).toBe('CANCELLED');
  });

  it('stops with CANCELLED when aborted mid-way, leaving no outputs behind', async () => {
    const file = put('cancel-mid.jpg', await (await photoLike(1200, 900, 3)).jpeg().toBuffer());
    const scratch = await mkdtemp(path.join(dir, 'scratch-'));
    const controller = new AbortController();
    const pending = processImage(file, {}, quietContext(scratch, controller.signal));
    setTimeout(() => controller.abort(), 30);
    expect((await errorOf(pending)).code).toBe('CANCELLED');
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('refuses invalid parameters with the project wording', async () => {
    const file = put('params.png', await solid(100, 100, [9, 9, 9]).png().toBuffer());
    const error = await errorOf(run(file, { widths: [8] }));
    expect(error.code).toBe('REQUEST_INVALID');
    expect(error.message).toBe('Expected a number >= 16 for params.widths.0 but received 8');
  });
});

describe('real images from the corpus', () => {
  const corpus = locateCorpus();
  const skip = typeof corpus === 'string' ? corpus : undefined;
  if (skip) console.warn(`image corpus tests skipped: ${skip}`);

  it.skipIf(skip !== undefined)(
    'every image yields outputs or a permanent typed error, never a crash',
    async () => {
      if (typeof corpus === 'string') return;
      // The packages ship some files twice; each distinct file once keeps this test short.
      const seen = new Set<string>();
      const problems: string[] = [];
      let made = 0;
      let refused = 0;
      for (const relative of corpus.images) {
        const file = path.join(corpus.root, relative);
        const digest = createHash('sha1').update(readFileSync(file)).digest('hex');
        if (seen.has(digest)) continue;
        seen.add(digest);
        try {
          const result = await run(file, { widths: [96], formats: ['webp'] });
          if (result.outputs.length === 0) problems.push(`${relative}: no outputs`);
          for (const output of result.outputs) {
            const meta = await sharp(output.file).metadata();
            if (meta.exif || meta.width !== output.width)
              problems.push(
                `${relative}: bad output ` +
                  `${JSON.stringify({ exif: !!meta.exif, width: meta.width })}`,
              );
          }
          made++;
        } catch (error) {
          const code = (error as MediaflowError).code;
          if (!(error instanceof MediaflowError) || !code.startsWith('MEDIA_'))
            problems.push(`${relative}: ${String(error)}`);
          refused++;
        }
      }
      console.info(
        `image corpus: ${seen.size} distinct files, ${made} processed, ${refused} refused with ` +
          `a typed error`,
      );
      expect(problems).toEqual([]);
      expect(made).toBeGreaterThan(seen.size * 0.9);
    },
  );

  it.skipIf(skip !== undefined)(
    'keeps a real animated GIF animated and strips real camera EXIF',
    async () => {
      if (typeof corpus === 'string') return;
      const gif = corpus.images.find((p) => p.endsWith('/newtonscradle.gif'));
      const photo = corpus.images.find((p) => p.endsWith('/kphotoalbum/demo/spiff.jpg'));
      expect(gif && photo, 'expected newtonscradle.gif and spiff.jpg in the corpus').toBeTruthy();
      const animated = await run(path.join(corpus.root, gif!), {
        widths: [100],
        formats: ['webp'],
      });
      expect(animated.outputs[0]!.frames).toBe(36);
      expect((await sharp(animated.outputs[0]!.file, { animated: true }).metadata()).pages).toBe(
        36,
      );

      const source = path.join(corpus.root, photo!);
      const input = await sharp(source).metadata();
      expect(input.exif && input.iptc, 'the demo photo carries EXIF and IPTC').toBeTruthy();
      const result = await run(source, { widths: [320] });
      expect(result.outputs).toHaveLength(3);
      for (const output of result.outputs) {
        const meta = await sharp(output.file).metadata();
        expect([meta.exif, meta.iptc, meta.xmp]).toEqual([undefined, undefined, undefined]);
      }
    },
  );
});

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';

/** Test images built in code, so each test says exactly what is in its input. */

export type Rgb = [number, number, number];

/**
 * A photo-like image: smooth gradients plus blurred noise, so codecs have real work (not flat
 * colour).
 */
export async function photoLike(width: number, height: number, seed = 1): Promise<Sharp> {
  const pixels = Buffer.alloc(width * height * 3);
  let state = seed >>> 0 || 1;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  const phase = random() * Math.PI * 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const wave = Math.sin((x / width) * 9 + phase) * Math.cos((y / height) * 7 - phase) * 40;
      pixels[o] = clamp((x * 200) / width + wave + (random() - 0.5) * 60);
      pixels[o + 1] = clamp((y * 200) / height - wave + (random() - 0.5) * 60);
      pixels[o + 2] = clamp(((x + y) * 120) / (width + height) + 60 + wave + (random() - 0.5) * 60);
    }
  }
  // A light blur turns white noise into texture, like sensor noise and detail in a real photo.
  return sharp(pixels, { raw: { width, height, channels: 3 } }).blur(0.8);
}

function clamp(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value)));
}

/** An image split into four solid quadrants: top-left, top-right, bottom-left, bottom-right. */
export function quadrants(width: number, height: number, colours: [Rgb, Rgb, Rgb, Rgb]): Sharp {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = colours[(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)];
      pixels.set(c, (y * width + x) * 3);
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

/** A solid image. */
export function solid(width: number, height: number, colour: Rgb): Sharp {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: { r: colour[0], g: colour[1], b: colour[2] },
    },
  });
}

/** The pixel at (x, y) of any image file, as RGB (alpha dropped). */
export async function pixelAt(file: string, x: number, y: number, page = 0): Promise<Rgb> {
  const { data, info } = await sharp(file, { page })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const o = (y * info.width + x) * info.channels;
  return [data[o]!, data[o + 1]!, data[o + 2]!];
}

/** Largest per-channel difference between two colours. */
export function colourDistance(a: Rgb, b: Rgb): number {
  return Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));
}

/**
 * A PNG whose IHDR declares `width` x `height` but whose IDAT holds a few bytes: the classic
 * decompression bomb shape, where only the header is honest about the size it would decode to.
 */
export function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, deflate, no filter, no interlace
  const idat = deflateSync(Buffer.alloc(64)); // a sliver of the rows it claims
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** One PNG chunk with a correct CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * A GIF of `frames` frames, each a 1x1 sub-image on a `screenWidth` x `screenHeight` canvas. Tiny
 * on disk (about 20 bytes a frame), but every frame decodes to the full canvas.
 */
export function gifWithFrames(frames: number, screenWidth = 1, screenHeight = 1): Buffer {
  const header = Buffer.alloc(13);
  header.write('GIF89a', 0, 'latin1');
  header.writeUInt16LE(screenWidth, 6);
  header.writeUInt16LE(screenHeight, 8);
  header[10] = 0x80; // global colour table of 2 entries
  const palette = Buffer.from([0, 0, 0, 255, 255, 255]);
  const loop = Buffer.from([
    0x21,
    0xff,
    0x0b,
    ...Buffer.from('NETSCAPE2.0', 'latin1'),
    0x03,
    0x01,
    0x00,
    0x00,
    0x00,
  ]);
  const frame = Buffer.from([
    0x21,
    0xf9,
    0x04,
    0x00,
    0x0a,
    0x00,
    0x00,
    0x00, // graphic control: 100 ms delay
    0x2c,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x01,
    0x00,
    0x00, // image descriptor: 1x1 at (0, 0)
    0x02,
    0x02,
    0x44,
    0x01,
    0x00, // LZW min code size 2, one sub-block holding one pixel, terminator
  ]);
  return Buffer.concat([
    header,
    palette,
    loop,
    Buffer.alloc(frame.length * frames).fill(frame),
    Buffer.from([0x3b]),
  ]);
}

/** The real-image corpus from Debian packages, or why it is unavailable. */
export interface Corpus {
  root: string;
  images: string[];
}

/**
 * Locates (fetching on first use) the shared corpus: `../shared/corpus/fetch.sh` downloads a few
 * Debian packages and lists their images. Idempotent; returns a reason string when it cannot run
 * (no network, no apt), so corpus tests skip visibly instead of failing for the wrong reason.
 */
export function locateCorpus(): Corpus | string {
  const repo = path.resolve(import.meta.dirname, '../..');
  const dest = path.join(repo, '.cache/corpus');
  const list = path.join(dest, 'image.txt');
  if (!existsSync(list)) {
    const script = [
      path.join(repo, '../shared/corpus/fetch.sh'),
      '/work/shared/corpus/fetch.sh',
    ].find((p) => existsSync(p));
    if (!script) return 'corpus script ../shared/corpus/fetch.sh not found';
    const run = spawnSync('bash', [script, dest], { encoding: 'utf8', timeout: 300_000 });
    if (run.status !== 0 || !existsSync(list))
      return `corpus fetch failed: ${(run.stderr || run.error?.message || '').trim().slice(-300)}`;
  }
  const images = readFileSync(list, 'utf8').split('\n').filter(Boolean);
  if (images.length === 0)
    return 'corpus has no images (the Debian packages could not be downloaded)';
  return { root: path.join(dest, 'root'), images };
}

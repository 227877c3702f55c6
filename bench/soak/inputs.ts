import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const SAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../samples');

/** One upload of the soak: its key, its bytes, and whether it is meant to fail (corrupt). */
export interface SoakInput {
  key: string;
  kind: 'video' | 'image' | 'audio' | 'corrupt';
  body: Buffer;
}

function ffmpeg(args: string[]): Buffer {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-soak-in-')), 'o.mp4');
  const result = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args, out],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`);
  const body = fs.readFileSync(out);
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return body;
}

/** A 2 s, 160x90 test pattern with a tone: the smallest video that still makes a ladder. */
function tinyVideo(seed: number): Buffer {
  const patterns = ['testsrc', 'testsrc2', 'smptebars', 'rgbtestsrc'];
  return ffmpeg([
    ...['-f', 'lavfi', '-i', `${patterns[seed % patterns.length]}=size=160x90:rate=15:duration=2`],
    ...['-f', 'lavfi', '-i', `sine=frequency=${300 + 100 * seed}:duration=2`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
    '-shortest',
  ]);
}

async function tinyImage(seed: number): Promise<Buffer> {
  const noise = crypto.randomBytes(64 * 48 * 3);
  const image = sharp(noise, { raw: { width: 64, height: 48, channels: 3 } }).resize(320, 240);
  return seed % 2 ? image.png().toBuffer() : image.jpeg().toBuffer();
}

/**
 * N uploads: two corrupt files (random bytes named .mp4, and a video cut short before its
 * frames: its index comes last), then videos, images and audio in turn. Media is made once per
 * variant and reused under different keys: a job is per key, and tiny inputs keep 20 uploads
 * within minutes on 2 cores.
 */
export async function makeInputs(count: number): Promise<SoakInput[]> {
  const videos = [0, 1, 2, 3].map(tinyVideo);
  const images = await Promise.all([0, 1].map(tinyImage));
  const audio = fs.readFileSync(path.join(SAMPLES, 'tone.mp3'));
  const portrait = fs.readFileSync(path.join(SAMPLES, 'portrait.mp4'));
  const video = videos[0]!;
  const inputs: SoakInput[] = [
    { key: 'soak/corrupt-random.mp4', kind: 'corrupt', body: crypto.randomBytes(64 * 1024) },
    {
      key: 'soak/corrupt-truncated.mp4',
      kind: 'corrupt',
      body: video.subarray(0, Math.floor(video.length * 0.3)),
    },
  ];
  for (let i = 0; inputs.length < count; i++) {
    const n = String(i).padStart(4, '0');
    const turn = i % 4;
    if (turn === 0 || turn === 2) {
      const body = i % 12 === 8 ? portrait : videos[(i >> 1) % videos.length]!;
      inputs.push({ key: `soak/video-${n}.mp4`, kind: 'video', body });
    } else if (turn === 1) {
      const body = images[(i >> 2) % images.length]!;
      const ext = (i >> 2) % 2 ? 'png' : 'jpg';
      inputs.push({ key: `soak/image-${n}.${ext}`, kind: 'image', body });
    } else inputs.push({ key: `soak/audio-${n}.mp3`, kind: 'audio', body: audio });
  }
  return inputs.slice(0, Math.max(count, 2));
}

import { spawn } from 'node:child_process';
import path from 'node:path';
import sharp from 'sharp';
import type { Rendition } from '../functions/video/ladder.js';

/**
 * The baselines benchmarks compare against, written the way a person would without mediaflow:
 * one plain ffmpeg command, one bare sharp script. They use the same encoder settings as the
 * pipeline, so a ratio measures the pipeline's overhead and parallelism, not different settings.
 */
export interface X264Settings {
  preset: string;
  crf: number;
  hlsSegmentSeconds: number;
  audioBitrateKbps: number;
}

/** One ffmpeg process: decode once, split, scale per rung, x264 per rung, AAC, faststart MP4s. */
export function plainLadderArgs(
  source: string,
  renditions: readonly Rendition[],
  outDir: string,
  fps: number,
  s: X264Settings,
): string[] {
  const n = renditions.length;
  const labels = renditions.map((_, i) => `[s${i}]`).join('');
  const graph = [
    `[0:v]split=${n}${labels}`,
    ...renditions.map(
      (r, i) => `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,setsar=1,format=yuv420p[v${i}]`,
    ),
  ].join(';');
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-y',
    '-i',
    source,
    '-filter_complex',
    graph,
  ];
  renditions.forEach((r, i) => {
    args.push(
      '-map',
      `[v${i}]`,
      '-map',
      '0:a?',
      '-c:v',
      'libx264',
      '-preset',
      s.preset,
      '-profile:v',
      'high',
      '-crf',
      String(s.crf),
      '-maxrate',
      `${Math.round(r.maxBitrate / 1000)}k`,
      '-bufsize',
      `${Math.round(r.bufferBits / 1000)}k`,
      '-g',
      String(Math.round(fps * s.hlsSegmentSeconds)),
      '-sc_threshold',
      '0',
      '-flags',
      '+cgop',
      '-force_key_frames',
      `expr:gte(t,n_forced*${s.hlsSegmentSeconds})`,
      '-c:a',
      'aac',
      '-b:a',
      `${s.audioBitrateKbps}k`,
      '-ac',
      '2',
      '-movflags',
      '+faststart',
      path.join(outDir, `${r.name}.mp4`),
    );
  });
  return args;
}

export function runCommand(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 10_000) stderr = stderr.slice(-5000);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(file)} exited ${code}: ${stderr.slice(-500)}`)),
    );
  });
}

/** A bare sharp script: decode once, orient, strip metadata, every width in every format. */
export async function bareSharpLadder(
  source: string,
  outDir: string,
  widths: readonly number[],
  quality: { jpeg: number; webp: number; avif: number },
  formats: readonly ('jpeg' | 'webp' | 'avif')[],
): Promise<void> {
  const base = sharp(source).rotate();
  const { width = 0 } = await sharp(source).metadata();
  const jobs: Promise<unknown>[] = [];
  for (const w of widths.filter((w) => w <= width)) {
    const resized = base.clone().resize({ width: w }).toColourspace('srgb');
    for (const f of formats) {
      const out = path.join(outDir, `w${w}.${f}`);
      const encoded =
        f === 'jpeg'
          ? resized.clone().jpeg({ quality: quality.jpeg, mozjpeg: true })
          : f === 'webp'
            ? resized.clone().webp({ quality: quality.webp })
            : resized.clone().avif({ quality: quality.avif });
      jobs.push(encoded.toFile(out));
    }
  }
  await Promise.all(jobs);
}

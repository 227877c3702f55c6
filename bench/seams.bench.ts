import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeWhole, runVideoChain } from '../test/helpers/video-chain.js';
import type { Binaries } from '../functions/ffmpeg/binaries.js';
import { noisyTestsrc, testTools } from '../test/helpers/video-fixtures.js';
import type { Row } from './harness.js';

/**
 * Seams: each clip chunked (2 s pieces for the short corpus clips, 4 s for the synthetic ones)
 * with and without pre-roll, against one encode of the whole clip with the same function and
 * settings: video bytes (the target: within 1%) and SSIM against the source (the same
 * scaler), the ratio being chunked / single. Corpus clips that are not split (too short, codecs
 * that are not cut) are left out; the synthetic noise clips are the hard cases.
 */
const CORPUS = path.resolve('.cache/corpus');
const CLIPS = [
  'usr/share/gocode/src/github.com/gabriel-vasile/mimetype/testdata/mp4.mp4',
  'usr/share/gocode/src/github.com/gabriel-vasile/mimetype/testdata/mov.mov',
  'usr/share/gocode/src/github.com/gabriel-vasile/mimetype/testdata/3gp.3gp',
  'usr/share/gocode/src/github.com/gabriel-vasile/mimetype/testdata/webm.webm',
  'usr/share/kphotoalbum/demo/movie.avi',
  'usr/share/hollywood/soundwave.mp4',
];

function ffmpegRun(ffmpeg: string, args: string[]): string {
  const r = spawnSync(ffmpeg, ['-hide_banner', '-nostdin', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg exited ${r.status}: ${r.stderr.slice(-500)}`);
  return r.stderr;
}

function videoBytes(ffprobe: string, file: string): number {
  const r = spawnSync(
    ffprobe,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'packet=size',
      '-of',
      'csv=p=0',
      file,
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  return r.stdout.split('\n').reduce((sum, line) => sum + (Number(line) || 0), 0);
}

function ssim(ffmpeg: string, file: string, source: string, w: number, h: number): number {
  const err = ffmpegRun(ffmpeg, [
    '-i',
    file,
    '-i',
    source,
    '-lavfi',
    `[1:v]scale=${w}:${h}:flags=bicubic,setsar=1,format=yuv420p[r];[0:v][r]ssim`,
    '-f',
    'null',
    '-',
  ]);
  return Number(/All:([0-9.]+)/.exec(err)?.[1] ?? NaN);
}

function noiseClip(bin: Binaries, dir: string, alls: number): string {
  const spec = { width: 640, height: 360, fps: 30, seconds: 16, alls };
  return noisyTestsrc(bin, path.join(dir, `noise-${alls}.mp4`), spec);
}

export default async function run(): Promise<Row[]> {
  const tools = await testTools();
  const { ffmpeg, ffprobe } = tools.binaries;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-seams-'));
  const rows: Row[] = [];
  try {
    const clips = [
      ...CLIPS.map((c) => ({ file: path.join(CORPUS, 'root', c), piece: 2, heights: [360] })),
      { file: noiseClip(tools.binaries, dir, 4), piece: 4, heights: [360] },
      { file: noiseClip(tools.binaries, dir, 14), piece: 4, heights: [360] },
    ].filter((c) => fs.existsSync(c.file));
    let worstBytes = 0;
    for (const [n, clip] of clips.entries()) {
      const name = path.basename(clip.file);
      const work = path.join(dir, String(n));
      const measure = async (preroll: number) =>
        runVideoChain(tools, clip.file, path.join(work, `pre${preroll}`), {
          heights: clip.heights,
          segmentSeconds: clip.piece,
          hlsSeconds: 2,
          prerollSeconds: preroll,
        });
      const warm = await measure(1);
      if (warm.split.mode !== 'split') continue;
      const cold = await measure(0);
      const single = await encodeWhole(tools, clip.file, warm, 2, path.join(work, 'single'));
      const pieces = warm.split.segments.length;
      const { width, height } = warm.ladder[0]!;
      const b = videoBytes(ffprobe, single.outputs[0]!.file);
      const sb = ssim(ffmpeg, single.outputs[0]!.file, clip.file, width, height);
      for (const [label, chain] of [
        ['pre-roll 1 s', warm],
        ['no pre-roll', cold],
      ] as const) {
        const file = chain.merged[0]!.mp4File;
        const a = videoBytes(ffprobe, file);
        const sa = ssim(ffmpeg, file, clip.file, width, height);
        if (label === 'pre-roll 1 s') worstBytes = Math.max(worstBytes, Math.abs(a / b - 1));
        rows.push({
          name: `${name} ${width}x${height}, ${pieces} pieces, ${label}: video bytes`,
          value: a,
          unit: 'B',
          baseline: b,
          ratio: a / b,
          note: `SSIM ${sa.toFixed(5)} vs single ${sb.toFixed(5)} (${(sa - sb).toFixed(5)})`,
        });
      }
      fs.rmSync(work, { recursive: true, force: true });
    }
    rows.push({
      name: 'worst |bytes chunked / single - 1| with pre-roll',
      value: worstBytes * 100,
      unit: '%',
      note: 'target <= 1%',
    });
    return rows;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

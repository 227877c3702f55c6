import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveBinaries } from '../functions/ffmpeg/binaries.js';
import { computeLadder, type Rendition } from '../functions/video/ladder.js';
import { presetSchema } from '../pipeline/presets/schema.js';
import { plainLadderArgs, runCommand, type X264Settings } from './baselines.js';
import { benchApp, runThroughPipeline } from './embedded.js';
import { sampleTreeRss, timed, type Row } from './harness.js';
import { groupStages, projectMakespan, stageWalls } from './makespan.js';

const CACHE = path.resolve('.cache/bench');
const SECONDS = Number(process.env.BENCH_VIDEO_SECONDS ?? 40);
const RUNS = Number(process.env.BENCH_VIDEO_RUNS ?? 2);

/**
 * The reference clip: 1080p30 with moving detail and a tone, about 12 Mb/s with keyframes every 2
 * s, like a camera's.
 */
export async function referenceClip(ffmpeg: string, seconds = SECONDS): Promise<string> {
  const file = path.join(CACHE, `ref-1080p-${seconds}s-12M.mp4`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(CACHE, { recursive: true });
  await runCommand(ffmpeg, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1920x1080:rate=30:duration=${seconds},noise=alls=3:allf=t`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=330:sample_rate=48000:duration=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '20',
    '-maxrate',
    '12M',
    '-bufsize',
    '24M',
    '-g',
    '60',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '160k',
    '-shortest',
    file,
  ]);
  return file;
}

/** The default video preset's 1080p ladder and x264 settings, for the plain-ffmpeg baseline. */
export function defaultLadder(): { renditions: Rendition[]; settings: X264Settings } {
  const preset = presetSchema.parse({ name: 'video', kind: 'video' });
  if (preset.kind !== 'video') throw new Error('unreachable');
  const renditions = computeLadder(
    { displayWidth: 1920, displayHeight: 1080 },
    { heights: preset.ladder },
  );
  return {
    renditions,
    settings: {
      preset: preset.x264Preset,
      crf: preset.crf,
      hlsSegmentSeconds: preset.hlsSegmentSeconds,
      audioBitrateKbps: preset.audioBitrateKbps,
    },
  };
}

/**
 * Issue 3's reference: a 1080p clip through the whole pipeline (upload to finished HLS + MP4
 * ladder, thumbnails, manifest) against the best plain ffmpeg command making the same MP4 ladder
 * with the same encoder settings in one process, measured in the same run.
 */
export default async function run(): Promise<Row[]> {
  const { ffmpeg } = await resolveBinaries({
    ffmpegPath: process.env.FFMPEG_PATH,
    ffprobePath: process.env.FFPROBE_PATH,
  });
  const source = await referenceClip(ffmpeg);
  const { renditions, settings } = defaultLadder();
  const app = await benchApp();
  try {
    // Alternating runs, best of each: drift in the machine's load hits both sides alike.
    let plainSeconds = Infinity;
    let plainPeak = 0;
    let best: Awaited<ReturnType<typeof runThroughPipeline>> | undefined;
    let peak = 0;
    for (let run = 0; run < RUNS; run++) {
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-plain-'));
      const plainRss = sampleTreeRss();
      const plain = await timed(() =>
        runCommand(ffmpeg, plainLadderArgs(source, renditions, outDir, 30, settings)),
      );
      plainPeak = Math.max(plainPeak, plainRss.stop());
      plainSeconds = Math.min(plainSeconds, plain.seconds);
      fs.rmSync(outDir, { recursive: true, force: true });

      const rss = sampleTreeRss();
      const measured = await runThroughPipeline(app, source, `bench/${run}/ref.mp4`);
      peak = Math.max(peak, rss.stop());
      if (!best || measured.seconds < best.seconds) best = measured;
    }
    const { seconds, timings } = best!;
    const plain = { seconds: plainSeconds };
    const stages = groupStages(timings);
    const walls = stageWalls(stages);
    const outside = Math.max(0, seconds - walls.reduce((a, b) => a + b, 0));
    const transcodeWall = walls[2] ?? 0;
    const segments = timings.filter((t) => t.kind === 'transcode').length;
    const ladderNames = renditions.map((r) => r.name).join('/');
    return [
      {
        name: `pipeline wall, ${SECONDS}s 1080p -> ${ladderNames} HLS+MP4`,
        value: seconds,
        unit: 's',
        baseline: plain.seconds,
        ratio: seconds / plain.seconds,
        note:
          `plain ffmpeg: one process, same ladder and x264 settings (MP4 only); target ratio <= ` +
          `1.0; ${segments} segments`,
      },
      {
        name: 'realtime factor (source seconds per wall second)',
        value: SECONDS / seconds,
        unit: 'x',
        baseline: SECONDS / plain.seconds,
        ratio: plain.seconds / seconds,
      },
      {
        name: 'peak RSS, process tree',
        value: peak / 2 ** 20,
        unit: 'MiB',
        baseline: plainPeak / 2 ** 20,
        ratio: peak / plainPeak,
      },
      {
        name: 'time outside transcoding (probe, split, merge, storage, queue)',
        value: seconds - transcodeWall,
        unit: 's',
        ratio: (seconds - transcodeWall) / seconds,
        note:
          `stage walls ${walls.map((w) => w.toFixed(1)).join(' | ')} s; outside tasks ` +
          `${outside.toFixed(2)} s`,
      },
      ...[8, 32].map((w) => ({
        name: `projected makespan on ${w} workers`,
        value: projectMakespan(stages, outside, w),
        unit: 's',
        baseline: plain.seconds,
        ratio: projectMakespan(stages, outside, w) / plain.seconds,
        note: 'from measured task times, longest-first per stage',
      })),
    ];
  } finally {
    await app.dispose();
  }
}

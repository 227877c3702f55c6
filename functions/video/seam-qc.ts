import fs from 'node:fs/promises';
import path from 'node:path';
import type { FunctionContext } from '../context.js';
import { ffmpegGlobalArgs, inputArgs } from '../ffmpeg/args/common.js';
import { rotationFilters } from '../ffmpeg/args/rotation.js';
import { timingFilters, type FrameTiming } from '../ffmpeg/args/transcode-ladder.js';
import { runFfmpeg } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';
import type { VideoPacket } from './packets.js';

/**
 * Seam QC, for any codec: every join of a chunked encode is checked for frames (count and
 * timestamps) and measured for quality on both sides, and the result goes into the manifest.
 */

/** Frames compared at each end of a piece. */
export const QC_FRAMES = 10;
/**
 * The SSIM step across a join that marks it as visible: a piece starting cold or a lost frame
 * shows as a drop of several hundredths, while the frames around a good join differ by less than
 * a hundredth.
 */
export const SEAM_SSIM_STEP = 0.02;

/** SSIM of a piece's first and last frames against the source, per rendition. */
export interface PieceEnds {
  head: number;
  tail: number;
}

export interface SeamRecord {
  /** Join k is between piece k-1 and piece k. */
  join: number;
  /** Seconds on the output timeline. */
  at: number;
  /** The frame gap across the join, in frame intervals (1 is continuous). */
  gapFrames: number;
  /** SSIM of the last frames before and the first frames after the join; null if unmeasured. */
  ssimBefore: number | null;
  ssimAfter: number | null;
  ok: boolean;
}

/**
 * Checks the joins of a merged video stream (packets of its video track, any order) against the
 * pieces it was made of. Null problem when the frame count is the pieces' sum and every join is
 * one frame interval wide. Pure.
 */
export function checkJoins(
  packets: readonly VideoPacket[],
  pieces: ReadonlyArray<{ duration: number; frameCount: number; ends?: PieceEnds | undefined }>,
): { seams: SeamRecord[]; problem: string | null } {
  const times = packets
    .map((p) => p.pts)
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b);
  const expected = pieces.reduce((n, p) => n + p.frameCount, 0);
  const seams: SeamRecord[] = [];
  let problem: string | null =
    times.length === expected ? null : `${times.length} frames, the pieces hold ${expected}`;
  const first = times[0] ?? 0;
  let at = 0;
  let index = 0;
  for (let k = 1; k < pieces.length; k++) {
    at += pieces[k - 1]!.duration;
    index += pieces[k - 1]!.frameCount;
    const before = times[index - 1];
    const after = times[index];
    const interval = pieces[k]!.duration / pieces[k]!.frameCount;
    const gapFrames =
      before === undefined || after === undefined ? NaN : (after - before) / interval;
    const startsOnTime = after !== undefined && Math.abs(after - first - at) < interval / 2;
    const ssimBefore = pieces[k - 1]!.ends?.tail ?? null;
    const ssimAfter = pieces[k]!.ends?.head ?? null;
    const step = ssimBefore !== null && ssimAfter !== null ? Math.abs(ssimBefore - ssimAfter) : 0;
    const framesOk = Math.abs(gapFrames - 1) < 0.5 && startsOnTime;
    seams.push({
      join: k,
      at,
      gapFrames: Number.isFinite(gapFrames) ? Number(gapFrames.toFixed(3)) : NaN,
      ssimBefore,
      ssimAfter,
      ok: framesOk && step <= SEAM_SSIM_STEP,
    });
    if (!framesOk && !problem)
      problem = `join ${k} at ${at.toFixed(3)} s: ${gapFrames.toFixed(2)} frame intervals`;
  }
  return { seams, problem };
}

/** Parses ffmpeg ssim `stats_file` lines; the mean of their `All:` values. */
export function meanSsim(stats: string): number {
  const values = [...stats.matchAll(/All:([0-9.]+)/g)].map((m) => Number(m[1]));
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

/**
 * SSIM of the first and last {@link QC_FRAMES} frames of each encoded rendition against the
 * source piece, decoded the way the encode read it (same timing and rotation filters, same
 * scaler), in one ffmpeg run. Only the compared frames are scaled. Ignores a watermark: both
 * ends are measured alike, so the step across a join still shows.
 */
export async function measurePieceEnds(
  source: { file: string; format: string; rotate: boolean; rotation: 0 | 90 | 180 | 270 },
  timing: FrameTiming | undefined,
  frameCount: number,
  outputs: ReadonlyArray<{ file: string; width: number; height: number }>,
  tools: MediaTools,
  ctx: FunctionContext,
): Promise<PieceEnds[]> {
  const n = Math.max(1, Math.min(QC_FRAMES, Math.floor(frameCount / 2)));
  const dir = await fs.mkdtemp(path.join(ctx.scratchDir, 'qc-'));
  const stats = (i: number, end: 'head' | 'tail') => path.join(dir, `${end}-${i}.log`);
  const ends = (label: string, input: string, filters: string[]) =>
    `[${input}]${[...filters, 'split=2'].join(',')}[${label}h][${label}t];` +
    `[${label}h]trim=end_frame=${n},setpts=PTS-STARTPTS[${label}hh];` +
    `[${label}t]trim=start_frame=${frameCount - n},setpts=PTS-STARTPTS[${label}tt]`;
  const graph = [
    ends('src', '0:v:0', [
      ...timingFilters(timing),
      ...(source.rotate ? rotationFilters(source.rotation) : []),
    ]),
    `[srchh]split=${outputs.length}${outputs.map((_, i) => `[sh${i}]`).join('')}`,
    `[srctt]split=${outputs.length}${outputs.map((_, i) => `[st${i}]`).join('')}`,
  ];
  outputs.forEach((o, i) => {
    const scale = `scale=${o.width}:${o.height}:flags=bicubic,setsar=1,format=yuv420p`;
    graph.push(
      `[sh${i}]${scale}[rh${i}]`,
      `[st${i}]${scale}[rt${i}]`,
      ends(`d${i}`, `${i + 1}:v:0`, ['format=yuv420p']),
      `[d${i}hh][rh${i}]ssim=stats_file=${stats(i, 'head')},nullsink`,
      `[d${i}tt][rt${i}]ssim=stats_file=${stats(i, 'tail')}[q${i}]`,
    );
  });
  const args = [
    ...ffmpegGlobalArgs('error'),
    ...inputArgs({
      file: source.file,
      format: source.format,
      options: source.rotate ? ['-noautorotate'] : [],
    }),
    ...outputs.flatMap((o) => inputArgs({ file: o.file, format: 'mp4' })),
    '-filter_complex',
    graph.join(';'),
    ...outputs.flatMap((_, i) => ['-map', `[q${i}]`]),
    '-f',
    'null',
    '-',
  ];
  try {
    await runFfmpeg(tools, args, ctx, { label: 'seam qc' });
    return await Promise.all(
      outputs.map(async (_, i) => ({
        head: meanSsim(await fs.readFile(stats(i, 'head'), 'utf8')),
        tail: meanSsim(await fs.readFile(stats(i, 'tail'), 'utf8')),
      })),
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

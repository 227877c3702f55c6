import fs from 'node:fs/promises';
import { quietContext } from '../../functions/context.js';
import type { WatermarkSpec } from '../../functions/ffmpeg/args/watermark.js';
import type { MediaTools } from '../../functions/ffmpeg/tools.js';
import { encodeAudio, type EncodedAudio } from '../../functions/video/audio.js';
import { computeLadder, type Rendition } from '../../functions/video/ladder.js';
import type { MediaInfo } from '../../functions/video/media-info.js';
import { mergeRendition, type MergedRendition } from '../../functions/video/merge.js';
import { probe } from '../../functions/video/probe.js';
import { DEFAULT_PREROLL_SECONDS } from '../../functions/video/seam-preroll.js';
import { splitVideo, type SplitResult } from '../../functions/video/split.js';
import { transcodeSegment, type TranscodedSegment } from '../../functions/video/transcode.js';
import { TEST_LIMITS } from './video-fixtures.js';

/**
 * One x264 thread for every encode here, pieces and single pass alike. With frame threads and a
 * VBV cap x264's output differs from run to run (the rate control sees frame sizes late, in an
 * order the scheduler picks), so byte comparisons would measure the machine's load; with one
 * thread they are exact and repeatable. functions/video/seam-preroll.ts has the figures per
 * thread count.
 */
const ENCODER = { threads: 1 };

export interface ChainResult {
  info: MediaInfo;
  ladder: Rendition[];
  split: SplitResult;
  audio: EncodedAudio | null;
  merged: MergedRendition[];
}

/**
 * probe -> ladder -> split + audio -> transcode each piece -> merge each rendition, in `workDir`.
 */
export async function runVideoChain(
  tools: MediaTools,
  source: string,
  workDir: string,
  options: {
    heights: number[];
    segmentSeconds: number;
    hlsSeconds: number;
    watermark?: WatermarkSpec;
    /** Pre-roll per piece; the pipeline's default when unset. */
    prerollSeconds?: number;
  },
): Promise<ChainResult> {
  await fs.mkdir(workDir, { recursive: true });
  const ctx = quietContext(workDir);
  const info = await probe(source, { tools, limits: TEST_LIMITS }, ctx);
  const ladder = computeLadder(info.video!, { heights: options.heights });
  const split = await splitVideo(
    source,
    info,
    {
      tools,
      segmentSeconds: options.segmentSeconds,
      maxSegments: 50,
      prerollSeconds: options.prerollSeconds ?? DEFAULT_PREROLL_SECONDS,
      alignSeconds: options.hlsSeconds,
    },
    ctx,
  );
  const audio = await encodeAudio(source, info, { tools, durationSeconds: split.duration }, ctx);
  const encoded = [];
  for (const segment of split.segments) {
    encoded.push(
      await transcodeSegment(
        segment,
        {
          tools,
          renditions: ladder,
          rotation: info.video!.rotation,
          fps: info.video!.fps,
          hlsSegmentSeconds: options.hlsSeconds,
          encoder: ENCODER,
          ...(options.watermark ? { watermark: options.watermark } : {}),
          measureEnds: split.mode === 'split',
        },
        ctx,
      ),
    );
  }
  const merged = [];
  for (const [i, r] of ladder.entries()) {
    merged.push(
      await mergeRendition(
        {
          rendition: r.name,
          width: r.width,
          height: r.height,
          pieces: encoded.map((e, k) => ({
            file: e.outputs[i]!.file,
            duration: e.duration,
            frameCount: split.segments[k]!.frameCount,
            ...(e.outputs[i]!.ends ? { ends: e.outputs[i]!.ends } : {}),
          })),
          audioFile: audio?.file ?? null,
          hlsSegmentSeconds: options.hlsSeconds,
        },
        { tools },
        ctx,
      ),
    );
  }
  return { info, ladder, split, audio, merged };
}

/**
 * One encode of the whole source with the same function and settings as the chain's pieces (its
 * one segment is the source itself): the single pass that chunked output is measured against.
 */
export async function encodeWhole(
  tools: MediaTools,
  source: string,
  chain: ChainResult,
  hlsSeconds: number,
  workDir: string,
): Promise<TranscodedSegment> {
  await fs.mkdir(workDir, { recursive: true });
  const segments = chain.split.segments;
  return transcodeSegment(
    {
      index: 0,
      file: source,
      format: chain.info.demuxer,
      start: 0,
      duration: chain.split.duration,
      frameCount: segments.reduce((n, s) => n + s.frameCount, 0),
      ...(segments[0]!.timing ? { timing: { rate: segments[0]!.timing.rate } } : {}),
    },
    {
      tools,
      renditions: chain.ladder,
      rotation: chain.info.video!.rotation,
      fps: chain.info.video!.fps,
      hlsSegmentSeconds: hlsSeconds,
      encoder: ENCODER,
    },
    quietContext(workDir),
  );
}

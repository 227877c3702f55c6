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
import { transcodeSegment } from '../../functions/video/transcode.js';
import { TEST_LIMITS } from './video-fixtures.js';

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
          ...(options.watermark ? { watermark: options.watermark } : {}),
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
          pieces: encoded.map((e) => ({ file: e.outputs[i]!.file, duration: e.duration })),
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

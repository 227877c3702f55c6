import os from 'node:os';
import path from 'node:path';
import type { WatermarkSpec } from '../../functions/ffmpeg/args/watermark.js';
import { writeWatermarkPng } from '../../functions/image/watermark-png.js';
import { MAX_PIECE_ENCODER_THREADS } from '../../functions/video/seam-preroll.js';
import { CODEC_COST, type VideoCodec } from '../../functions/video/video-codecs.js';
import { transcodeSegment } from '../../functions/video/transcode.js';
import { mapConcurrently } from './concurrently.js';
import { defineTask, type TaskIO } from './handler.js';
import { mediaTools } from './media-tools.js';
import { videoPreset } from './video-preset.js';
import { resolveWatermark } from './watermark-source.js';

/** Encodes one segment into every rendition of the ladder (one decode, one ffmpeg process). */
export const transcodeHandler = defineTask({
  kind: 'transcode',
  async run({ segment, media, renditions, stageTasks }, io) {
    const preset = videoPreset(io);
    const tools = await mediaTools(io.config);
    const [file, prerollFile] = await Promise.all([
      segment.name ? io.fetchScratch(segment.name) : io.fetchSource(),
      segment.preroll ? io.fetchScratch(segment.preroll.name) : undefined,
    ]);
    const watermark = await videoWatermark(io, renditions);
    const encoded = await transcodeSegment(
      {
        index: segment.index,
        file,
        format: segment.name ? segment.format : media.demuxer,
        start: segment.start,
        duration: segment.duration,
        frameCount: segment.frameCount,
        ...(segment.timing ? { timing: segment.timing } : {}),
        ...(segment.preroll && prerollFile
          ? {
              preroll: {
                file: prerollFile,
                format: segment.preroll.format,
                skipFrames: segment.preroll.skipFrames,
                frames: segment.preroll.frames,
              },
            }
          : {}),
      },
      {
        tools,
        renditions,
        rotation: media.video?.rotation ?? 0,
        fps: media.video?.fps ?? 30,
        color: media.video?.color,
        hlsSegmentSeconds: preset.hlsSegmentSeconds,
        encoder: {
          preset: preset.x264Preset,
          crf: preset.crf,
          hevc: { preset: preset.hevcPreset, crf: preset.hevcCrf },
          av1: { speed: preset.av1Speed, crf: preset.av1Crf },
        },
        threadsPerRendition: encoderThreads({
          concurrency: io.config.worker.concurrency,
          stageTasks: stageTasks ?? io.config.worker.concurrency,
          renditions,
          ...(segment.name ? { maxPerEncoder: MAX_PIECE_ENCODER_THREADS } : {}),
        }),
        ...(watermark ? { watermark } : {}),
        measureEnds: segment.name !== null,
      },
      io.ctx,
    );
    const names = await mapConcurrently(encoded.outputs, async (o) => {
      const name = `enc-${o.rendition}-${String(segment.index).padStart(5, '0')}.mp4`;
      await io.putScratch(name, o.file);
      return [o.rendition, name] as const;
    });
    const ends = encoded.outputs.flatMap((o) => (o.ends ? [[o.rendition, o.ends] as const] : []));
    return {
      files: Object.fromEntries(names),
      ...(ends.length ? { ends: Object.fromEntries(ends) } : {}),
    };
  },
});

/**
 * The preset's watermark as a PNG for ffmpeg's overlay: the logo decoded and vetted by sharp, or
 * the text rendered with the preset's font, as wide as the widest rendition needs.
 */
async function videoWatermark(
  io: TaskIO,
  renditions: ReadonlyArray<{ width: number; height: number }>,
): Promise<WatermarkSpec | undefined> {
  const spec = videoPreset(io).watermark;
  if (!spec) return undefined;
  const resolved = await resolveWatermark(spec, io);
  const imageFile = path.join(io.ctx.scratchDir, 'watermark-overlay.png');
  const widest = renditions.reduce((a, b) => (b.width > a.width ? b : a));
  const size = await writeWatermarkPng(resolved, widest.width, imageFile);
  // ffmpeg sizes an overlay by width: a text height becomes the width fraction that gives it.
  const scale =
    resolved.type === 'text' && resolved.fontSize !== undefined
      ? Math.min(1, (resolved.fontSize * widest.height * size.width) / size.height / widest.width)
      : resolved.scale;
  return { imageFile, ...placement(spec, scale) };
}

function placement(
  spec: { position: WatermarkSpec['position']; margin: number; opacity: number },
  scale: number,
): Omit<WatermarkSpec, 'imageFile'> {
  return { position: spec.position, marginFraction: spec.margin, opacity: spec.opacity, scale };
}

/**
 * x264 threads for each rendition of one task. The task's share of the cores is cores / the tasks
 * that can actually run side by side: the stage's transcode tasks, at most this process's
 * concurrency (not the configured concurrency alone: 6 pieces on 16 slots left 10 idle while every
 * encoder ran one thread). The share is split by pixel count, since the top rung is the slowest
 * encoder and so the task's critical path (with other codecs, by pixels times the codec's CPU
 * cost): it gets the rounded-up share, the others the rounded
 * one, one thread at the least. Tasks that already fill the cores get one thread per encoder,
 * which avoids frame-threading overhead (measured 9% faster for two 4-rung 1080p pieces on 2
 * cores).
 */
export function encoderThreads(options: {
  concurrency: number;
  stageTasks: number;
  renditions: ReadonlyArray<{ width: number; height: number; codec?: VideoCodec }>;
  cores?: number;
  /** A ceiling per encoder: a piece of a split source keeps its seams tight with few threads. */
  maxPerEncoder?: number;
}): number[] {
  const cores = options.cores ?? os.availableParallelism();
  const running = Math.max(1, Math.min(options.concurrency, options.stageTasks));
  const share = cores / running;
  // Work, not pixels alone: an HEVC or AV1 rung costs more CPU than the H.264 one of its size.
  const pixels = options.renditions.map((r) => r.width * r.height * CODEC_COST[r.codec ?? 'h264']);
  const total = pixels.reduce((a, b) => a + b, 0);
  const top = pixels.indexOf(Math.max(...pixels));
  return pixels.map((p, i) => {
    const exact = total > 0 ? (share * p) / total : share / pixels.length;
    const threads = Math.max(1, i === top ? Math.ceil(exact - 1e-9) : Math.round(exact));
    return Math.min(threads, options.maxPerEncoder ?? Number.POSITIVE_INFINITY);
  });
}

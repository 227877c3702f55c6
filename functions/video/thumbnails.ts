import fs from 'node:fs/promises';
import path from 'node:path';
import type { FunctionContext } from '../context.js';
import { MediaflowError } from '../errors.js';
import { posterArgs, seekSpriteArgs, spriteArgs } from '../ffmpeg/args/thumbnails.js';
import { runFfmpeg } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';
import { even } from './ladder.js';
import type { MediaInfo } from './media-info.js';

export interface ThumbnailOptions {
  tools: MediaTools;
  /** Poster width (never above the source's); default 1280. */
  posterWidth?: number;
  /**
   * Seconds between sprite thumbnails; grows when the video would need more than `maxThumbnails`.
   * Default 10.
   */
  intervalSeconds?: number;
  /** Width of one sprite thumbnail; default 160. */
  thumbWidth?: number;
  /** Default 100. */
  maxThumbnails?: number;
  /** Thumbnails per sprite row; default 10. */
  columns?: number;
  /** How the sprite is referenced from the VTT (its name next to the VTT by default). */
  spriteUrl?: string;
}

export interface ThumbnailsResult {
  posterFile: string;
  posterWidth: number;
  posterHeight: number;
  spriteFile: string;
  vttFile: string;
  thumbWidth: number;
  thumbHeight: number;
  count: number;
  intervalSeconds: number;
  columns: number;
  rows: number;
}

export interface SpriteLayout {
  count: number;
  intervalSeconds: number;
  columns: number;
  rows: number;
}

/** How many thumbnails, how far apart and in what grid. Pure. */
export function spriteLayout(
  duration: number,
  intervalSeconds: number,
  maxThumbnails: number,
  columns: number,
): SpriteLayout {
  if (!(duration > 0))
    throw new RangeError(`Expected a positive duration but received ${duration}`);
  const interval = Math.max(intervalSeconds, duration / maxThumbnails);
  const count = Math.max(1, Math.min(maxThumbnails, Math.ceil(duration / interval - 1e-9)));
  const cols = Math.min(columns, count);
  return { count, intervalSeconds: interval, columns: cols, rows: Math.ceil(count / cols) };
}

/**
 * The WebVTT index: one cue per thumbnail, pointing into the sprite with a media fragment. Pure.
 */
export function spriteVtt(
  layout: SpriteLayout,
  duration: number,
  thumbWidth: number,
  thumbHeight: number,
  spriteUrl: string,
): string {
  const cues = ['WEBVTT', ''];
  for (let i = 0; i < layout.count; i++) {
    const start = i * layout.intervalSeconds;
    const end = Math.min(duration, (i + 1) * layout.intervalSeconds);
    const x = (i % layout.columns) * thumbWidth;
    const y = Math.floor(i / layout.columns) * thumbHeight;
    cues.push(
      `${vttTime(start)} --> ${vttTime(end)}`,
      `${spriteUrl}#xywh=${x},${y},${thumbWidth},${thumbHeight}`,
      '',
    );
  }
  return cues.join('\n');
}

/** `hh:mm:ss.mmm` */
export function vttTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/**
 * A poster JPEG and a sprite sheet with its WebVTT index. The poster is taken about 10% into the
 * video (the first frames are often black or a fade-in), and among the following frames the
 * `thumbnail` filter picks the most representative one.
 */
export async function makeThumbnails(
  inputFile: string,
  info: MediaInfo,
  options: ThumbnailOptions,
  ctx: FunctionContext,
): Promise<ThumbnailsResult> {
  const video = info.video;
  if (!video)
    throw new MediaflowError('MEDIA_UNSUPPORTED', 'The source has no video for thumbnails.');
  const duration = video.duration ?? info.duration;
  const aspect = video.displayHeight / video.displayWidth;
  const posterWidth = even(Math.min(options.posterWidth ?? 1280, video.displayWidth));
  const posterHeight = even(posterWidth * aspect);
  const thumbWidth = even(Math.min(options.thumbWidth ?? 160, video.displayWidth));
  const thumbHeight = even(thumbWidth * aspect);
  const layout = spriteLayout(
    duration,
    options.intervalSeconds ?? 10,
    options.maxThumbnails ?? 100,
    options.columns ?? 10,
  );
  // About a second of frames: enough to skip a black or blurred one, little to decode at 1080p.
  // At least 2: `thumbnail` refuses n=1, and this ffmpeg then segfaults (a 1 fps source).
  const candidates = Math.max(2, Math.min(30, Math.round(video.fps || 25)));
  // Seek on the file's own timeline; leave room for the candidates before the end.
  const posterAt =
    info.startTime +
    Math.max(0, Math.min(duration * 0.1, duration - candidates / (video.fps || 25)));

  const dir = path.join(ctx.scratchDir, 'thumbnails');
  await fs.mkdir(dir, { recursive: true });
  const posterFile = path.join(dir, 'poster.jpg');
  const spriteFile = path.join(dir, 'sprite.jpg');
  const vttFile = path.join(dir, 'sprite.vtt');
  const input = { file: inputFile, format: info.demuxer };

  const poster = (seekSeconds: number) =>
    runFfmpeg(
      options.tools,
      posterArgs({
        input: { ...input, seekSeconds },
        rotation: video.rotation,
        width: posterWidth,
        height: posterHeight,
        candidates,
        color: video.color,
        output: posterFile,
      }),
      ctx,
      { label: 'poster' },
    );
  await poster(posterAt);
  // A file without a usable index cannot be seeked (ffmpeg only warns and writes nothing): take the
  // poster from the start.
  if (posterAt > 0 && (await fs.stat(posterFile).catch(() => ({ size: 0 }))).size === 0)
    await poster(0);
  ctx.onProgress(0.2);
  const grid = {
    input,
    rotation: video.rotation,
    thumbWidth,
    thumbHeight,
    columns: layout.columns,
    rows: layout.rows,
    color: video.color,
    output: spriteFile,
  };
  // One seek per thumbnail decodes a GOP each; a file that cannot be seeked gets the full decode.
  const times = Array.from(
    { length: layout.count },
    (_, i) => info.startTime + i * layout.intervalSeconds,
  );
  const seeked = await runFfmpeg(options.tools, seekSpriteArgs({ ...grid, times }), ctx, {
    label: 'sprite',
  }).then(
    async () => (await fs.stat(spriteFile).catch(() => ({ size: 0 }))).size > 0,
    (error: unknown) => {
      if (ctx.signal.aborted) throw error;
      ctx.log.warn(
        { err: (error as Error).message },
        'seeking sprite failed; decoding the whole video',
      );
      return false;
    },
  );
  if (!seeked)
    await runFfmpeg(
      options.tools,
      spriteArgs({ ...grid, intervalSeconds: layout.intervalSeconds }),
      ctx,
      { label: 'sprite' },
    );
  for (const file of [posterFile, spriteFile]) {
    const { size } = await fs.stat(file).catch(() => ({ size: 0 }));
    if (size === 0)
      throw new MediaflowError('FFMPEG_FAILED', `ffmpeg wrote no ${path.basename(file)}.`);
  }
  await fs.writeFile(
    vttFile,
    spriteVtt(layout, duration, thumbWidth, thumbHeight, options.spriteUrl ?? 'sprite.jpg'),
  );
  ctx.onProgress(1);
  return {
    posterFile,
    posterWidth,
    posterHeight,
    spriteFile,
    vttFile,
    thumbWidth,
    thumbHeight,
    ...layout,
  };
}

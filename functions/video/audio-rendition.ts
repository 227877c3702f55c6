import fs from 'node:fs/promises';
import path from 'node:path';
import type { FunctionContext } from '../context.js';
import { audioRenditionArgs } from '../ffmpeg/args/concat-merge.js';
import { runFfmpeg } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';
import { finishCmafRendition, safeName, type CmafRendition } from './cmaf-rendition.js';

/**
 * Packages the audio, encoded once, as its own CMAF rendition: fMP4 segments of about the video's
 * segment length, a measured media playlist, and the facts the master playlist and MPD need.
 * Stream copy only.
 */
export async function packageAudioRendition(
  audioFile: string,
  options: { tools: MediaTools; name: string; segmentSeconds: number },
  ctx: FunctionContext,
): Promise<CmafRendition> {
  const dir = path.join(ctx.scratchDir, 'hls', safeName(options.name));
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  const ffmpegPlaylist = path.join(dir, 'ffmpeg.m3u8');
  await runFfmpeg(
    options.tools,
    audioRenditionArgs(audioFile, {
      playlist: ffmpegPlaylist,
      segmentPattern: path.join(dir, 'seg-%05d.m4s'),
      segmentSeconds: options.segmentSeconds,
    }),
    ctx,
    { label: `audio rendition ${options.name}` },
  );
  const rendition = await finishCmafRendition(dir, ffmpegPlaylist, options.name);
  ctx.onProgress(1);
  return rendition;
}

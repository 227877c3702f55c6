import fs from 'node:fs/promises';
import path from 'node:path';
import type { FunctionContext } from '../context.js';
import { MediaflowError } from '../errors.js';
import { webVttArgs } from '../ffmpeg/args/subtitles.js';
import { runFfmpeg } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';
import type { MediaInfo, SubtitleStreamInfo } from './media-info.js';

/**
 * Converts one text subtitle stream (SRT, ASS, mov_text, WebVTT) to WebVTT for an HLS subtitle
 * rendition and a DASH text AdaptationSet. The file gets `X-TIMESTAMP-MAP`: cue time 0 is media
 * time 0 of the CMAF segments, whose decode times start at 0 (the video's first frame).
 */
export async function extractWebVtt(
  inputFile: string,
  info: MediaInfo,
  stream: SubtitleStreamInfo,
  options: { tools: MediaTools },
  ctx: FunctionContext,
): Promise<string> {
  if (!stream.text)
    throw new RangeError(`Expected a text subtitle stream but received ${stream.codec}`);
  const file = path.join(ctx.scratchDir, `subs-${stream.index}.vtt`);
  await runFfmpeg(
    options.tools,
    webVttArgs(
      { file: inputFile, format: info.demuxer },
      stream.index,
      info.video?.startTime ?? 0,
      file,
    ),
    ctx,
    { label: `subtitles ${stream.index}` },
  );
  const text = await fs.readFile(file, 'utf8');
  if (!text.startsWith('WEBVTT'))
    throw new MediaflowError('FFMPEG_FAILED', `Subtitle stream ${stream.index} gave no WebVTT.`);
  await fs.writeFile(file, withTimestampMap(text));
  return file;
}

/** Adds `X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000` to the WebVTT header. Pure. */
export function withTimestampMap(text: string): string {
  const [header = 'WEBVTT', ...rest] = text.split('\n');
  const body = rest.filter((line) => !line.startsWith('X-TIMESTAMP-MAP='));
  return [header, 'X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000', ...body].join('\n');
}

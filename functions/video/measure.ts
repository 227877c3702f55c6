import fs from 'node:fs/promises';
import type { FunctionContext } from '../context.js';
import { probeOutputArgs } from '../ffmpeg/args/probe.js';
import { runFfprobe } from '../ffmpeg/run-tool.js';
import type { MediaTools } from '../ffmpeg/tools.js';
import { parseRational } from './media-info.js';

/** What an output we wrote actually contains, from its container (no decoding). */
export interface OutputMeasure {
  bytes: number;
  /** Container duration, seconds. */
  duration: number;
  videoDuration: number | null;
  audioDuration: number | null;
  /** Video frames, as the container counts them (MP4 sample table). */
  frameCount: number | null;
  /** Average frame rate of the video. */
  fps: number | null;
  /** Whole-file bitrate, bits per second. */
  bitRate: number;
}

interface Probed {
  format?: { duration?: string };
  streams?: Array<{
    codec_type?: string;
    duration?: string;
    nb_frames?: string;
    avg_frame_rate?: string;
  }>;
}

/** ffprobes one of our outputs. */
export async function measureOutput(
  file: string,
  tools: MediaTools,
  ctx: FunctionContext,
): Promise<OutputMeasure> {
  const [{ stdout }, { size }] = await Promise.all([
    runFfprobe(tools, probeOutputArgs(file), ctx, { label: 'output', limit: 'probe' }),
    fs.stat(file),
  ]);
  const data = JSON.parse(stdout) as Probed;
  const num = (v: string | undefined) => (v === undefined || v === 'N/A' ? null : Number(v));
  const video = data.streams?.find((s) => s.codec_type === 'video');
  const audio = data.streams?.find((s) => s.codec_type === 'audio');
  const rate = parseRational(video?.avg_frame_rate);
  const duration = num(data.format?.duration) ?? num(video?.duration) ?? num(audio?.duration) ?? 0;
  return {
    bytes: size,
    duration,
    videoDuration: num(video?.duration),
    audioDuration: num(audio?.duration),
    frameCount: num(video?.nb_frames),
    fps: rate ? rate.num / rate.den : null,
    bitRate: duration > 0 ? Math.round((size * 8) / duration) : 0,
  };
}

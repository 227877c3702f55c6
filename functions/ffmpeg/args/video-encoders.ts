import type { VideoCodec } from '../../video/video-codecs.js';
import { kbps } from './common.js';

/** What every set's encoder shares: the GOP, the cap and the threads of one output. */
export interface EncoderOutput {
  maxBitrate: number;
  bufferBits: number;
  threads?: number | undefined;
}

/** Speed and quality of each codec's encoder. */
export interface CodecSettings {
  /** x264 preset. */
  x264Preset: string;
  crf: number;
  /** x265 preset (x264's names) and CRF. */
  hevc?: { preset: string; crf: number } | undefined;
  /** libaom `cpu-used` (0 slowest .. 8 fastest, realtime usage) and CRF (0..63). */
  av1?: { speed: number; crf: number } | undefined;
}

export const DEFAULT_HEVC = { preset: 'veryfast', crf: 28 } as const;
export const DEFAULT_AV1 = { speed: 8, crf: 35 } as const;

/**
 * The encoder options of one output: capped CRF (the rate never passes `maxBitrate` over the VBV
 * buffer), closed GOPs of `gopFrames`, and no keyframes of the encoder's own choosing (scene cuts),
 * so the forced ones are the only extra keyframes and every set has them at the same frames. With
 * `vbvInit` (a piece after its pre-roll) the buffer starts that full. Pure.
 */
export function videoEncoderArgs(
  codec: VideoCodec,
  settings: CodecSettings,
  output: EncoderOutput,
  gopFrames: number,
  vbvInit?: number,
): string[] {
  const cap = ['-maxrate', kbps(output.maxBitrate), '-bufsize', kbps(output.bufferBits)];
  const threads = output.threads;
  if (codec === 'hevc') {
    const { preset, crf } = settings.hevc ?? DEFAULT_HEVC;
    const params = [
      'scenecut=0',
      'open-gop=0',
      'log-level=error',
      ...(threads ? [`pools=${threads}`] : []),
      ...(vbvInit !== undefined ? [`vbv-init=${vbvInit}`] : []),
    ];
    // hvc1: parameter sets in the sample entry, as Apple's players require for HEVC in fMP4.
    return [
      '-c:v',
      'libx265',
      '-preset',
      preset,
      '-crf',
      String(crf),
      ...cap,
      '-g',
      String(gopFrames),
      '-forced-idr',
      '1',
      '-tag:v',
      'hvc1',
      '-x265-params',
      params.join(':'),
    ];
  }
  if (codec === 'av1') {
    const { speed, crf } = settings.av1 ?? DEFAULT_AV1;
    // Constrained quality: the CRF, held under the cap (libaom wants a bitrate beside -maxrate).
    return [
      '-c:v',
      'libaom-av1',
      '-usage',
      'realtime',
      '-cpu-used',
      String(speed),
      '-crf',
      String(crf),
      '-b:v',
      kbps(output.maxBitrate),
      ...cap,
      '-g',
      String(gopFrames),
      '-keyint_min',
      String(gopFrames),
      ...(threads ? ['-threads', String(threads)] : []),
    ];
  }
  return [
    '-c:v',
    'libx264',
    '-preset',
    settings.x264Preset,
    ...(threads ? ['-threads', String(threads)] : []),
    '-profile:v',
    'high',
    '-crf',
    String(settings.crf),
    ...cap,
    '-g',
    String(gopFrames),
    '-sc_threshold',
    '0',
    '-flags',
    '+cgop',
    ...(vbvInit !== undefined ? ['-x264-params', `vbv-init=${vbvInit}`] : []),
  ];
}

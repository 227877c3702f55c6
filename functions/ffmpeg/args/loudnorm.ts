import { MediaflowError } from '../../errors.js';
import { ffmpegGlobalArgs, fileUrl, inputArgs, kbps, type InputSpec } from './common.js';

/** EBU R128 targets for `loudnorm`. */
export interface LoudnessTarget {
  /** Integrated loudness, LUFS. */
  integrated: number;
  /** Maximum true peak, dBTP. */
  truePeak: number;
  /** Loudness range, LU. */
  range: number;
}

/** What the first pass measured (loudnorm's JSON, numbers as printed). */
export interface LoudnessMeasurement {
  input_i: string;
  input_tp: string;
  input_lra: string;
  input_thresh: string;
  target_offset: string;
}

function targetOptions(target: LoudnessTarget): string {
  return `I=${target.integrated}:TP=${target.truePeak}:LRA=${target.range}`;
}

/** Pass 1: measure only; loudnorm prints its JSON on stderr at info level. */
export function loudnormMeasureArgs(input: InputSpec, target: LoudnessTarget): string[] {
  return [
    ...ffmpegGlobalArgs('info'),
    ...inputArgs(input),
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    '-af',
    `loudnorm=${targetOptions(target)}:print_format=json`,
    '-f',
    'null',
    '-',
  ];
}

/**
 * Pulls loudnorm's JSON block out of ffmpeg's stderr. Throws when it is missing or incomplete (a
 * silent or very short input can yield `-inf`, which pass 2 cannot use).
 */
export function parseLoudnormJson(stderr: string): LoudnessMeasurement {
  const start = stderr.lastIndexOf('{');
  const end = stderr.indexOf('}', start);
  if (start < 0 || end < 0)
    throw new MediaflowError('FFMPEG_FAILED', 'loudnorm printed no measurement');
  const json = JSON.parse(stderr.slice(start, end + 1)) as Record<string, unknown>;
  const keys = ['input_i', 'input_tp', 'input_lra', 'input_thresh', 'target_offset'] as const;
  const result = {} as LoudnessMeasurement;
  for (const key of keys) {
    const value = json[key];
    if (typeof value !== 'string' || !Number.isFinite(Number(value)))
      throw new MediaflowError('FFMPEG_FAILED', `loudnorm measured ${key}=${String(value)}`);
    result[key] = value;
  }
  return result;
}

export type AudioOutputFormat = 'aac' | 'mp3' | 'opus';

export interface AudioOutputSpec {
  format: AudioOutputFormat;
  bitrate: number;
  file: string;
}

const CODEC_ARGS: Record<AudioOutputFormat, { codec: string[]; muxer: string }> = {
  aac: { codec: ['-c:a', 'aac', '-profile:a', 'aac_low'], muxer: 'mp4' },
  mp3: { codec: ['-c:a', 'libmp3lame'], muxer: 'mp3' },
  opus: { codec: ['-c:a', 'libopus'], muxer: 'ogg' },
};

/**
 * Pass 2: apply the measured values (linear mode keeps the dynamics: a plain gain when the
 * true-peak limit allows it), resample back to 48 kHz stereo (loudnorm works at 192 kHz), and
 * encode every requested format from one decode.
 */
export function loudnormApplyArgs(
  input: InputSpec,
  target: LoudnessTarget,
  measured: LoudnessMeasurement,
  outputs: readonly AudioOutputSpec[],
): string[] {
  if (outputs.length === 0)
    throw new RangeError('Expected at least one audio output but received none');
  const loudnorm = [
    `loudnorm=${targetOptions(target)}`,
    `measured_I=${measured.input_i}`,
    `measured_TP=${measured.input_tp}`,
    `measured_LRA=${measured.input_lra}`,
    `measured_thresh=${measured.input_thresh}`,
    `offset=${measured.target_offset}`,
    'linear=true',
    'print_format=summary',
  ].join(':');
  const labels = outputs.map((_, i) => `[a${i}]`).join('');
  // An explicit stereo layout: this ffmpeg cannot negotiate a layout into asplit otherwise, and
  // stereo is what web players expect (mono is duplicated, surround downmixed).
  const split = outputs.length > 1 ? `,asplit=${outputs.length}` : '';
  const stereo = 'aformat=sample_fmts=fltp:channel_layouts=stereo';
  const graph = `[0:a:0]${loudnorm},aresample=48000,${stereo}${split}${labels}`;
  const args = [...ffmpegGlobalArgs(), ...inputArgs(input), '-filter_complex', graph];
  outputs.forEach((output, i) => {
    const { codec, muxer } = CODEC_ARGS[output.format];
    args.push(
      '-map',
      `[a${i}]`,
      '-vn',
      '-sn',
      '-dn',
      '-map_metadata',
      '-1',
      ...codec,
      '-b:a',
      kbps(output.bitrate),
      '-ar',
      '48000',
      '-f',
      muxer,
      fileUrl(output.file),
    );
  });
  return args;
}

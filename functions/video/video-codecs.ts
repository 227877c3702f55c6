/**
 * The video codecs a preset can ask for: one rendition set each, on the same segment boundaries.
 * H.264 is the set every player decodes; HEVC and AV1 carry the same pictures in fewer bits for
 * the players that decode them. Pure.
 */
export const VIDEO_CODECS = ['h264', 'hevc', 'av1'] as const;
export type VideoCodec = (typeof VIDEO_CODECS)[number];

/**
 * The ffmpeg encoder of each set. AV1 is libaom in its realtime mode, not SVT-AV1: every set must
 * put keyframes exactly where `-force_key_frames` asks (the HLS boundaries, and a piece's cut
 * after its pre-roll), and SVT-AV1 ignores requested keyframes (ffmpeg 5.1 with SVT-AV1 1.4 here:
 * keyframes only every `-g` frames; ffmpeg's own later patch says the library cannot place them at
 * arbitrary frames). libaom honours them, and at `cpu-used 8` costs less CPU than SVT-AV1's
 * preset 10 (1.7 against 3.0 CPU seconds for 6 s of 360p noise, x264 veryfast 1.0).
 */
export const CODEC_ENCODERS: Readonly<Record<VideoCodec, string>> = {
  h264: 'libx264',
  hevc: 'libx265',
  av1: 'libaom-av1',
};

/**
 * Each set's bitrate cap against the H.264 rung of the same size: the usual savings of HEVC and
 * AV1 at equal quality, so the caps bind about equally on every set.
 */
export const CODEC_BITRATE_FACTOR: Readonly<Record<VideoCodec, number>> = {
  h264: 1,
  hevc: 0.7,
  av1: 0.6,
};

/**
 * CPU per pixel against x264 at the defaults (veryfast; x265 veryfast; libaom realtime
 * cpu-used 8), measured on 6 s of 360p noise with one thread each: 1.0, 2.5 and 1.8 CPU seconds.
 * Threads are shared out by it.
 */
export const CODEC_COST: Readonly<Record<VideoCodec, number>> = { h264: 1, hevc: 2.5, av1: 1.8 };

/**
 * How players should rank the sets: the most efficient first. A player lists the variants it can
 * decode, so one without AV1 falls to HEVC, and one without either to H.264.
 */
export const CODEC_PREFERENCE: Readonly<Record<VideoCodec, number>> = { av1: 3, hevc: 2, h264: 1 };

/** The rendition name of a rung in a set: H.264 keeps the bare name (`720p`), others gain one. */
export function setRenditionName(rung: string, codec: VideoCodec): string {
  return codec === 'h264' ? rung : `${rung}-${codec}`;
}

/** The set a RFC 6381 video codec string belongs to (`avc1.…`, `hvc1.…`, `av01.…`). */
export function codecOfString(codecs: string): VideoCodec {
  const first = codecs.split(',')[0]!.split('.')[0];
  if (first === 'hvc1' || first === 'hev1') return 'hevc';
  if (first === 'av01') return 'av1';
  return 'h264';
}

/**
 * HLS `SCORE` of a variant among several codec sets: its rung's rank by size (1 the smallest), a
 * quarter more per step of codec preference, so a bigger picture always scores higher and, at
 * one size, the more efficient codec does.
 */
export function variantScore(sizeRank: number, codec: VideoCodec): number {
  return sizeRank + (CODEC_PREFERENCE[codec] - 1) * 0.25;
}

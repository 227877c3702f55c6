/**
 * Warm rate control at the joins of a chunked encode, for any codec. Pure.
 *
 * A piece encoded on its own starts with the encoder's rate control cold: x264 begins with its
 * VBV buffer 90% full, so at the cap every piece spent almost a buffer's worth of extra bits at
 * its start (13.6% more bytes than one encode on noise held at the cap, 4 s pieces). The cure
 * measured best is a pre-roll: each piece after the first also encodes the last second of the
 * piece before it, with the buffer started 40% full (x264 `vbv-init` 0.4), and drops those
 * frames. By the cut the buffer has settled about where one encode of the whole source has it:
 *
 * | 4 s pieces, 360p at 800k cap | noise at the cap     | light noise (under the cap) |
 * | ---------------------------- | -------------------- | --------------------------- |
 * | no pre-roll                  | +13.6%               | -0.6%                       |
 * | 1 s pre-roll                 | +5.2%                | -0.2%                       |
 * | 2 s pre-roll                 | +1.8%                | -0.3%                       |
 * | 0.5 s, vbv-init 0.3          | -2.9%                | -3.9% (SSIM -0.0008)        |
 * | 1 s, vbv-init 0.3            | -0.03%               | -1.2%                       |
 * | 1 s, vbv-init 0.4 (chosen)   | +0.7% (SSIM +0.0006) | -0.6% (SSIM +0.0000)        |
 * | 1 s, vbv-init 0.5            | +0.8% (SSIM -0.0001) | -0.4% (SSIM +0.0000)        |
 * | 1 s, vbv-init 0.7            | +1.4%                | -0.2%                       |
 *
 * (video bytes against one encode with the same settings, 16 s testsrc2 under noise.) A pre-roll
 * costs its encode time: one second per piece after the first, which is why pieces are sized to
 * the machine (`planSplit`) rather than kept short.
 *
 * The pre-roll is decoded from a lead-in: the previous piece from its last keyframe at least
 * `seconds` before the cut, stream-copied by the split. Decoding is cheap next to encoding every
 * rung, so only the last `frames` frames of the lead-in reach the encoders; a lead-in that is
 * longer (a long GOP) costs decode time only.
 */

/** Seconds of the previous piece each later piece encodes and drops. */
export const DEFAULT_PREROLL_SECONDS = 1;
/**
 * Fraction of the VBV buffer full at the start of a pre-roll: lower than x264's 0.9, so the
 * buffer settles within the pre-roll on content at the cap; content under the cap refills it.
 */
export const PREROLL_VBV_INIT = 0.4;

/**
 * The most x264 threads one encoder of a piece gets. Frame threads keep frames in flight before
 * the rate control sees their sizes, so the more of them, the less the pre-roll settles the VBV
 * buffer by the cut: noise at the cap, 4 s pieces with the pre-roll above, video bytes against one
 * encode at the same thread count (x264 veryfast, 2026-12-05):
 *
 * | threads per encoder | 1     | 2     | 3     | 4     | 8     | 16    |
 * | ------------------- | ----- | ----- | ----- | ----- | ----- | ----- |
 * | chunked / single    | +0.7% | +0.8% | +0.6% | +0.7% | +1.1% | +1.6% |
 *
 * Pieces get their parallelism from running side by side, so the cap costs speed only where few
 * pieces run on many cores; a source that was not split has no seams and keeps its full share.
 */
export const MAX_PIECE_ENCODER_THREADS = 4;

/** What a piece needs to warm its encoders up. */
export interface Preroll {
  /** The lead-in: the end of the previous piece, starting on a keyframe. */
  file: string;
  format: string;
  /** Frames decoded from the lead-in and discarded before the pre-roll (a long GOP's head). */
  skipFrames: number;
  /** Frames of the lead-in that are encoded, then dropped: the pre-roll itself. */
  frames: number;
}

/**
 * Where a lead-in starts in the previous piece: its latest keyframe at least `seconds` before the
 * piece's end, else the piece's start. Times are seconds from the previous piece's start. Null
 * when there is nothing to pre-roll.
 */
export function leadInStart(
  keyframes: readonly number[],
  pieceDuration: number,
  seconds: number,
): number | null {
  if (!(seconds > 0) || !(pieceDuration > 0)) return null;
  let start = 0;
  for (const k of keyframes) if (k <= pieceDuration - seconds + 1e-6 && k > start) start = k;
  return start;
}

/**
 * Frames of a lead-in of `leadInFrames` frames to encode as pre-roll: `seconds` at `fps`, at least
 * one, at most the lead-in.
 */
export function prerollFrames(leadInFrames: number, seconds: number, fps: number): number {
  return Math.max(1, Math.min(leadInFrames, Math.round(seconds * fps)));
}

/**
 * The filter chain that puts the pre-roll on the exact frame grid before the piece: skip the
 * lead-in's head, keep `frames` frames, number them from 0 at `rate`. Concatenated before the
 * piece, the piece's first frame lands at `frames / rate` (see {@link prerollSeconds}).
 */
export function prerollChain(preroll: Preroll, rate: { num: number; den: number }): string {
  if (!(Number.isInteger(preroll.frames) && preroll.frames > 0))
    throw new RangeError(`Expected a positive integer for frames but received ${preroll.frames}`);
  return [
    `trim=start_frame=${preroll.skipFrames}:end_frame=${preroll.skipFrames + preroll.frames}`,
    `setpts=N*${rate.den}/(${rate.num}*TB)`,
  ].join(',');
}

/** Where the piece starts on the encoder's timeline: after the pre-roll's frames. */
export function prerollSeconds(preroll: Preroll, rate: { num: number; den: number }): number {
  return (preroll.frames * rate.den) / rate.num;
}

/**
 * Output options that drop the pre-roll after encoding: the segment muxer cuts at the first
 * keyframe at or after `at` (the keyframe forced on the piece's first frame, half a frame later)
 * and restarts the timestamps there. `pattern` numbers the two files; the piece is file 1.
 */
export function dropPrerollOutput(
  at: number,
  pattern: string,
  container: 'mp4' | 'mpegts' | 'nut' = 'mp4',
): string[] {
  return [
    '-f',
    'segment',
    '-segment_format',
    container,
    '-segment_times',
    at.toFixed(6),
    '-reset_timestamps',
    '1',
    pattern,
  ];
}

/** The file of the piece itself among the dropped-pre-roll outputs of `pattern` (`%d`). */
export function prerollPieceFile(pattern: string): string {
  return pattern.replace('%d', '1');
}

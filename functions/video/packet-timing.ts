import type { Rational } from './media-info.js';

/**
 * Frame rates from packet timestamps, for sources whose declared rate says nothing: an ASF/WMV
 * with frames on a 1 ms clock reports its time base (`r_frame_rate=1000/1`) and no average. Pure.
 */

/** The rates cameras, broadcast and editors use. */
export const STANDARD_RATES: readonly Rational[] = [
  { num: 24000, den: 1001 },
  { num: 24, den: 1 },
  { num: 25, den: 1 },
  { num: 30000, den: 1001 },
  { num: 30, den: 1 },
  { num: 50, den: 1 },
  { num: 60000, den: 1001 },
  { num: 60, den: 1 },
];

/** How far a measured rate may be from a standard (or whole) rate and still snap to it. */
export const SNAP_TOLERANCE = 0.005;

/** Packets a rate is measured over: seconds of video at usual rates, read in milliseconds. */
export const RATE_SAMPLE_PACKETS = 300;

/**
 * The frame rate that best explains the frame times: the least-squares slope of time over frame
 * index. Unlike the container's average it does not depend on how long the muxer guessed the last
 * frame lasts (ffmpeg 5 counts it, the 2018 build did not: 29.977 vs 30.10 fps for the same
 * jittered 30 fps stream, on either side of 30), and jitter of a few milliseconds averages out.
 * Undefined for fewer than 3 frames.
 */
export function fittedFps(sorted: readonly number[]): number | undefined {
  const n = sorted.length;
  if (n < 3) return undefined;
  const meanK = (n - 1) / 2;
  const meanT = sorted.reduce((sum, t) => sum + t, 0) / n;
  let covariance = 0;
  let variance = 0;
  sorted.forEach((t, k) => {
    covariance += (k - meanK) * (t - meanT);
    variance += (k - meanK) ** 2;
  });
  const secondsPerFrame = covariance / variance;
  return secondsPerFrame > 0 ? 1 / secondsPerFrame : undefined;
}

/**
 * The real frame rate of packets whose presentation times are `times` (seconds, any order;
 * packets without a time left out): the fitted rate snapped to the nearest standard rate, whole
 * rate (a 15 fps screen recording) or NTSC-style whole rate within {@link SNAP_TOLERANCE}, else
 * the fitted rate to a thousandth of a frame. Null when fewer than 3 frames are timed.
 */
export function measuredFrameRate(times: readonly number[]): Rational | null {
  const fps = fittedFps([...new Set(times)].sort((a, b) => a - b));
  if (fps === undefined) return null;
  const candidates: Rational[] = [
    ...STANDARD_RATES,
    { num: Math.max(1, Math.round(fps)), den: 1 },
    { num: Math.max(1, Math.round((fps * 1001) / 1000)) * 1000, den: 1001 },
  ];
  const nearest = candidates
    .map((r) => ({ r, error: Math.abs(r.num / r.den - fps) / fps }))
    .sort((a, b) => a.error - b.error)[0]!;
  if (nearest.error <= SNAP_TOLERANCE) return nearest.r;
  return { num: Math.round(fps * 1000), den: 1000 };
}

/**
 * Whether the declared rate must be measured from the packets: ffprobe found no average (its base
 * rate is then only a guess, often the time base), or the rate is past what any camera makes.
 */
export function needsMeasuredRate(
  video: { frameRateFrom?: 'average' | 'base' | 'packets' | undefined; fps: number },
  maxFps: number,
): boolean {
  return video.frameRateFrom === 'base' || !(video.fps > 0) || video.fps > maxFps;
}

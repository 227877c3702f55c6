import { CODEC_BITRATE_FACTOR, setRenditionName, type VideoCodec } from './video-codecs.js';

/**
 * The resolution ladder: which renditions a source gets. Pure.
 *
 * Rungs name the SHORT side (720 means 1280x720 for landscape, 720x1280 for portrait), so a
 * portrait phone video gets a portrait ladder instead of tiny letterboxed renditions. Sizes come
 * from the display size (rotation and sample aspect ratio applied), are even (yuv420p needs it),
 * and never exceed the source: a source smaller than every rung gets one rendition at its own size.
 */
export interface Rendition {
  /** Stable name used in output keys, e.g. `720p`. */
  name: string;
  width: number;
  height: number;
  /** Peak bitrate cap in bits per second (x264 `-maxrate`). */
  maxBitrate: number;
  /** VBV buffer in bits (x264 `-bufsize`). */
  bufferBits: number;
  /** The rendition set (video codec) this rung belongs to; H.264 when absent. */
  codec?: VideoCodec;
}

export interface LadderOptions {
  /** Short-side sizes; default {@link DEFAULT_LADDER_HEIGHTS}. */
  heights?: readonly number[];
  /** Bitrate cap per rung (bits per second) by short side; other sizes are interpolated. */
  maxBitrates?: Readonly<Record<number, number>>;
  /** VBV buffer as a multiple of the cap (default 2: about two seconds at peak). */
  bufferFactor?: number;
}

export const DEFAULT_LADDER_HEIGHTS: readonly number[] = [1080, 720, 480, 360];

/** Caps for 16:9 pictures, by short side (in line with common H.264 ladders). */
export const DEFAULT_MAX_BITRATES: Readonly<Record<number, number>> = {
  2160: 16_000_000,
  1440: 9_000_000,
  1080: 6_000_000,
  720: 3_000_000,
  480: 1_500_000,
  360: 800_000,
  240: 400_000,
};

/** Rounds to the nearest even number, at least 2. */
export function even(value: number): number {
  return Math.max(2, Math.round(value / 2) * 2);
}

function evenFloor(value: number): number {
  return Math.max(2, Math.floor(value / 2) * 2);
}

/** Computes the renditions for a source of the given display size, largest first. */
export function computeLadder(
  source: { displayWidth: number; displayHeight: number },
  options: LadderOptions = {},
): Rendition[] {
  const { displayWidth: w, displayHeight: h } = source;
  if (!(w > 0 && h > 0))
    throw new RangeError(`Expected a positive display size but received ${w}x${h}`);
  const portrait = h > w;
  const short = Math.min(w, h);
  const long = Math.max(w, h);
  const heights = [...new Set(options.heights ?? DEFAULT_LADDER_HEIGHTS)].filter(
    (r) => Number.isInteger(r) && r > 0,
  );
  const caps = options.maxBitrates ?? DEFAULT_MAX_BITRATES;
  const bufferFactor = options.bufferFactor ?? 2;

  const sizes: Array<{ shortSide: number; longSide: number }> = [];
  for (const rung of heights.sort((a, b) => b - a)) {
    if (rung > short) continue; // never upscale
    sizes.push({ shortSide: even(rung), longSide: even((rung * long) / short) });
  }
  if (sizes.length === 0) sizes.push({ shortSide: evenFloor(short), longSide: evenFloor(long) });

  const seen = new Set<string>();
  const renditions: Rendition[] = [];
  for (const { shortSide, longSide } of sizes) {
    const width = portrait ? shortSide : longSide;
    const height = portrait ? longSide : shortSide;
    const key = `${width}x${height}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const maxBitrate =
      caps[shortSide] !== undefined && Math.abs(longSide / shortSide - 16 / 9) < 0.02
        ? caps[shortSide]!
        : interpolateCap(width * height, caps);
    renditions.push({
      name: `${shortSide}p`,
      width,
      height,
      maxBitrate,
      bufferBits: Math.round(maxBitrate * bufferFactor),
    });
  }
  return renditions;
}

/**
 * Bitrate cap for a picture of `pixels`, interpolated on a log-log scale between the 16:9 anchors
 * (bits grow a little slower than pixels), and extrapolated with exponent 0.75 outside them.
 */
export function interpolateCap(
  pixels: number,
  caps: Readonly<Record<number, number>> = DEFAULT_MAX_BITRATES,
): number {
  const anchors = Object.entries(caps)
    .map(([short, bits]) => ({ pixels: Number(short) * even((Number(short) * 16) / 9), bits }))
    .sort((a, b) => a.pixels - b.pixels);
  if (anchors.length === 0) throw new RangeError('Expected at least one bitrate anchor');
  const round = (bits: number) => Math.round(bits / 1000) * 1000;
  const first = anchors[0]!;
  const last = anchors[anchors.length - 1]!;
  if (pixels <= first.pixels) return round(first.bits * (pixels / first.pixels) ** 0.75);
  if (pixels >= last.pixels) return round(last.bits * (pixels / last.pixels) ** 0.75);
  for (let i = 1; i < anchors.length; i++) {
    const hi = anchors[i]!;
    const lo = anchors[i - 1]!;
    if (pixels <= hi.pixels) {
      const t = Math.log(pixels / lo.pixels) / Math.log(hi.pixels / lo.pixels);
      return round(Math.exp(Math.log(lo.bits) + t * Math.log(hi.bits / lo.bits)));
    }
  }
  return round(last.bits);
}

/**
 * The ladder once per codec, H.264 first and then in the order given: every set has the same
 * sizes, with caps scaled by {@link CODEC_BITRATE_FACTOR}. H.264 rungs keep their names and carry
 * no codec, so a one-codec ladder is exactly {@link computeLadder}'s.
 */
export function codecSets(
  ladder: readonly Rendition[],
  codecs: readonly VideoCodec[],
): Rendition[] {
  const others = [...new Set(codecs)].filter((c) => c !== 'h264');
  return [
    ...ladder,
    ...others.flatMap((codec) =>
      ladder.map((r) => ({
        ...r,
        name: setRenditionName(r.name, codec),
        maxBitrate: Math.round((r.maxBitrate * CODEC_BITRATE_FACTOR[codec]) / 1000) * 1000,
        bufferBits: Math.round(r.bufferBits * CODEC_BITRATE_FACTOR[codec]),
        codec,
      })),
    ),
  ];
}

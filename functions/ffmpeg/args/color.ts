/**
 * Colour filters and tags: the zscale + tonemap chain that turns HDR into SDR BT.709, the SD to
 * HD matrix conversion, and the BT.709 tags every rendition carries. Pure.
 */

/** What the builders need to know of a source's colour (the probe's `ColorInfo` has it). */
export interface ColorSpec {
  dynamicRange: 'SDR' | 'PQ' | 'HLG';
  matrix: string | null;
  range: string | null;
  peakNits: number | null;
}

/** BT.2408: HDR reference white, which maps to SDR white. */
export const REFERENCE_WHITE_NITS = 203;
/** The peak assumed when an HDR10 stream signals none, and HLG's nominal display peak. */
export const DEFAULT_PEAK_NITS = 1000;
/**
 * Möbius keeps every level below this share of reference white unchanged and compresses the rest
 * smoothly into the SDR range: reference white lands at about 90% linear light (95% signal).
 * Measured on an HDR10 and an HLG clip made from a real SDR clip: 38-39 dB PSNR against it,
 * where the default 0.3 gives 30 dB and Hable 20 dB (washed out, the reported symptom).
 */
export const MOBIUS_KNEE = 0.8;

/**
 * Filters from an HDR picture to SDR BT.709 (limited range, 8-bit 4:2:0 follows): to linear light
 * with reference white at 1.0, BT.2020 to BT.709 primaries, Möbius highlight compression, then the
 * BT.709 transfer and matrix. The input's tags are stated, not trusted to survive the split's
 * container. Empty for SDR.
 */
export function toneMapFilters(color: ColorSpec | undefined): string[] {
  if (!color) return [];
  if (color.dynamicRange === 'SDR') return [];
  const transfer = color.dynamicRange === 'PQ' ? 'smpte2084' : 'arib-std-b67';
  const matrix = color.matrix === 'bt2020c' ? 'bt2020c' : 'bt2020nc';
  const inRange = color.range === 'pc' ? 'pc' : 'tv';
  const peak =
    (color.dynamicRange === 'PQ' ? (color.peakNits ?? DEFAULT_PEAK_NITS) : DEFAULT_PEAK_NITS) /
    REFERENCE_WHITE_NITS;
  return [
    `zscale=tin=${transfer}:min=${matrix}:pin=bt2020:rin=${inRange}` +
      `:t=linear:p=bt2020:npl=${REFERENCE_WHITE_NITS}`,
    'format=gbrpf32le',
    'zscale=p=bt709',
    `tonemap=mobius:param=${MOBIUS_KNEE}:desat=0:peak=${Math.max(1, peak).toFixed(3)}`,
    'zscale=t=bt709:m=bt709:r=tv',
  ];
}

/** Output tags for SDR BT.709, written on every rendition (SDR sources included). */
export function bt709TagArgs(): string[] {
  return [
    '-color_primaries',
    'bt709',
    '-color_trc',
    'bt709',
    '-colorspace',
    'bt709',
    '-color_range',
    'tv',
  ];
}

/**
 * Scaler options that convert an SD (BT.601) matrix to BT.709, which every output is tagged with.
 * Untagged sources are left as they are: most untagged HD is BT.709 already.
 */
export function matrixConversion(color: ColorSpec | undefined): string {
  const matrix = color?.matrix;
  if (color?.dynamicRange !== 'SDR' || !matrix) return '';
  return ['smpte170m', 'bt470bg'].includes(matrix)
    ? ':in_color_matrix=bt601:out_color_matrix=bt709'
    : '';
}

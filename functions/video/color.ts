/**
 * The colour of a video stream as the probe reports it, and what mediaflow makes of it: the
 * dynamic range (SDR, PQ for HDR10, HLG, including Dolby Vision profile 8.4 whose base layer is
 * HLG). The filters that turn HDR into SDR are in `ffmpeg/args/color.ts`. Pure.
 */

export type DynamicRange = 'SDR' | 'PQ' | 'HLG';

export interface ColorInfo {
  /** ffprobe's names (`bt2020`, `smpte2084`, `bt2020nc`, `tv`), null when untagged. */
  primaries: string | null;
  transfer: string | null;
  matrix: string | null;
  range: string | null;
  dynamicRange: DynamicRange;
  /** Bits per sample from the pixel format (8, 10, 12). */
  bitDepth: number;
  /** Dolby Vision configuration record, when the stream has one. */
  dolbyVision: { profile: number; compatibility: number } | null;
  /** Peak luminance in cd/m² from MaxCLL or the mastering display, when signalled. */
  peakNits: number | null;
}

interface ProbeColorFields {
  pix_fmt?: string;
  color_primaries?: string;
  color_transfer?: string;
  color_space?: string;
  color_range?: string;
  side_data_list?: Array<Record<string, unknown>>;
}

const known = (v: string | undefined) => (v && v !== 'unknown' && v !== 'reserved' ? v : null);

/** Reads colour facts from one ffprobe stream. */
export function parseColor(stream: ProbeColorFields): ColorInfo {
  const transfer = known(stream.color_transfer);
  const depth = /p(\d+)(le|be)$/.exec(stream.pix_fmt ?? '');
  const sideData = stream.side_data_list ?? [];
  const dovi = sideData.find((d) => d.side_data_type === 'DOVI configuration record');
  const light = sideData.find((d) => d.side_data_type === 'Content light level metadata');
  const mastering = sideData.find(
    (d) => d.side_data_type === 'Mastering display metadata' && d.max_luminance !== undefined,
  );
  const maxCll = Number(light?.max_content ?? 0);
  const masteringPeak = ratio(mastering?.max_luminance);
  const compatibility = Number(dovi?.dv_bl_signal_compatibility_id ?? -1);
  let dynamic: DynamicRange = 'SDR';
  if (transfer === 'smpte2084') dynamic = 'PQ';
  else if (transfer === 'arib-std-b67') dynamic = 'HLG';
  // Dolby Vision 8.4 declares an HLG base layer even where the stream's VUI is left unset.
  else if (dovi && compatibility === 4) dynamic = 'HLG';
  return {
    primaries: known(stream.color_primaries),
    transfer,
    matrix: known(stream.color_space),
    range: known(stream.color_range),
    bitDepth: depth ? Number(depth[1]) : 8,
    dynamicRange: dynamic,
    dolbyVision: dovi
      ? { profile: Number(dovi.dv_profile ?? 0), compatibility: Math.max(0, compatibility) }
      : null,
    peakNits: maxCll > 0 ? maxCll : masteringPeak,
  };
}

function ratio(value: unknown): number | null {
  if (typeof value === 'number') return value > 0 ? value : null;
  if (typeof value !== 'string') return null;
  const [n, d] = value.split('/').map(Number);
  const result = d ? n! / d : n!;
  return Number.isFinite(result) && result > 0 ? result : null;
}

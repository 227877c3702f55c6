/**
 * A typed watermark, turned into filter-graph text here and nowhere else. Users choose among
 * values; they never supply filter strings, so nothing they send can add a filter (such as
 * `movie=`, which reads arbitrary files) to the graph.
 */
export const WATERMARK_POSITIONS = [
  'top-left',
  'top',
  'top-right',
  'left',
  'center',
  'right',
  'bottom-left',
  'bottom',
  'bottom-right',
] as const;

export type WatermarkPosition = (typeof WATERMARK_POSITIONS)[number];

export interface WatermarkSpec {
  /** A local PNG or JPEG (the preset's image, fetched into scratch). */
  imageFile: string;
  position: WatermarkPosition;
  /** Distance from the anchored edges, as a fraction of the output width (e.g. 0.02). */
  marginFraction?: number;
  /** Distance from the anchored edges in pixels; wins over `marginFraction`. */
  marginPx?: number;
  /** 0 (invisible) .. 1 (opaque). */
  opacity: number;
  /** Watermark width as a fraction of the output width (e.g. 0.15). */
  scale: number;
}

/** Throws RangeError, worded `Expected X for name but received Y`, on an invalid spec. */
export function validateWatermark(spec: WatermarkSpec): void {
  const expect = (ok: boolean, what: string, name: string, value: unknown) => {
    if (!ok)
      throw new RangeError(`Expected ${what} for ${name} but received ${JSON.stringify(value)}`);
  };
  expect(
    (WATERMARK_POSITIONS as readonly string[]).includes(spec.position),
    `one of ${WATERMARK_POSITIONS.join(', ')}`,
    'position',
    spec.position,
  );
  expect(
    Number.isFinite(spec.opacity) && spec.opacity >= 0 && spec.opacity <= 1,
    'a number between 0 and 1',
    'opacity',
    spec.opacity,
  );
  expect(
    Number.isFinite(spec.scale) && spec.scale > 0 && spec.scale <= 1,
    'a number above 0 and at most 1',
    'scale',
    spec.scale,
  );
  if (spec.marginPx !== undefined)
    expect(
      Number.isInteger(spec.marginPx) && spec.marginPx >= 0 && spec.marginPx <= 10_000,
      'an integer between 0 and 10000',
      'marginPx',
      spec.marginPx,
    );
  if (spec.marginFraction !== undefined)
    expect(
      Number.isFinite(spec.marginFraction) &&
        spec.marginFraction >= 0 &&
        spec.marginFraction <= 0.5,
      'a number between 0 and 0.5',
      'marginFraction',
      spec.marginFraction,
    );
}

/**
 * The demuxer for the watermark image: single-image readers, never the pattern-expanding image2.
 */
export function watermarkDemuxer(imageFile: string): string {
  return /\.jpe?g$/i.test(imageFile) ? 'jpeg_pipe' : 'png_pipe';
}

/** Overlay x/y expressions for an anchor and a margin in pixels. */
export function overlayPosition(
  position: WatermarkPosition,
  margin: number,
): { x: string; y: string } {
  const [vertical, horizontal] =
    position === 'center'
      ? ['center', 'center']
      : position === 'left' || position === 'right'
        ? ['center', position]
        : position === 'top' || position === 'bottom'
          ? [position, 'center']
          : (position.split('-') as [string, string]);
  const x =
    horizontal === 'left'
      ? `${margin}`
      : horizontal === 'right'
        ? `main_w-overlay_w-${margin}`
        : '(main_w-overlay_w)/2';
  const y =
    vertical === 'top'
      ? `${margin}`
      : vertical === 'bottom'
        ? `main_h-overlay_h-${margin}`
        : '(main_h-overlay_h)/2';
  return { x, y };
}

/**
 * Filter-graph chains that prepare the watermark once per output size and overlay it:
 * `[wm]` is the image input, `[in_i]` the scaled picture of rendition i, `[out_i]` the result.
 */
export function watermarkGraph(
  spec: WatermarkSpec,
  imageLabel: string,
  outputs: ReadonlyArray<{ width: number; in: string; out: string }>,
): string[] {
  validateWatermark(spec);
  const opacity = Math.round(spec.opacity * 1000) / 1000;
  const base = `[${imageLabel}]format=rgba,colorchannelmixer=aa=${opacity}`;
  const copies = outputs.map((_, i) => `[wmc${i}]`).join('');
  const chains = [
    outputs.length > 1 ? `${base},split=${outputs.length}${copies}` : `${base}[wmc0]`,
  ];
  outputs.forEach((output, i) => {
    const width = Math.max(2, Math.round((output.width * spec.scale) / 2) * 2);
    const margin = spec.marginPx ?? Math.round(output.width * (spec.marginFraction ?? 0.02));
    const { x, y } = overlayPosition(spec.position, margin);
    chains.push(`[wmc${i}]scale=${width}:-1:flags=bicubic[wms${i}]`);
    chains.push(`[${output.in}][wms${i}]overlay=x=${x}:y=${y}:format=yuv420[${output.out}]`);
  });
  return chains;
}

/**
 * The widths actually produced for a source of `sourceWidth` pixels.
 *
 * Never upscales: a requested width above the source is skipped, and when any was skipped (or
 * equals the source) the source width itself is emitted once instead, so the largest derivative
 * is always the best the source allows and every source yields at least one output. A 1000 px
 * source with the ladder 320/640/1280/1920 gives 320, 640 and 1000.
 * Sorted ascending, without duplicates.
 */
export function planWidths(requested: readonly number[], sourceWidth: number): number[] {
  const widths = new Set<number>();
  for (const width of requested) widths.add(Math.min(width, sourceWidth));
  return [...widths].sort((a, b) => a - b);
}

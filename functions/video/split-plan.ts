/**
 * Where to cut a video for parallel transcoding. Pure.
 *
 * Cuts go only at keyframes that start closed GOPs (see `closedKeyframeTimes`), about every
 * `segmentSeconds`, never more than `maxSegments` pieces (the length grows instead), and a source
 * shorter than about two segments is not cut at all. Given the task slots that will run the
 * pieces, the length also grows to about {@link PIECES_PER_SLOT} pieces per slot: on few cores a
 * long source becomes a few long pieces (fewer joins, less per-task overhead), on many it keeps
 * the short ones.
 */
export interface SplitPlanOptions {
  segmentSeconds: number;
  maxSegments: number;
  /** Task slots that will transcode the pieces; unset: size by `segmentSeconds` alone. */
  slots?: number | undefined;
  /** The HLS segment length: cuts prefer keyframes on its grid (see `planSplit`). */
  alignSeconds?: number | undefined;
}

/**
 * Pieces per task slot: enough that one slow piece leaves the others' slots busy (at most a third
 * of the last round idle), few enough that joins and per-task costs stay small.
 */
export const PIECES_PER_SLOT = 3;

export interface SplitPlan {
  /** Cut times relative to the first frame (seconds); empty means one segment. */
  cuts: number[];
  /** The segment length aimed at after applying the cap. */
  targetSeconds: number;
}

/**
 * @param keyframes closed-GOP keyframe times relative to the first frame, ascending
 * @param duration video duration from the first frame (seconds)
 */
export function planSplit(
  keyframes: readonly number[],
  duration: number,
  options: SplitPlanOptions,
): SplitPlan {
  if (!(options.segmentSeconds > 0))
    throw new RangeError(
      `Expected a positive number for segmentSeconds but received ${options.segmentSeconds}`,
    );
  if (!(Number.isInteger(options.maxSegments) && options.maxSegments >= 1))
    throw new RangeError(
      `Expected a positive integer for maxSegments but received ${options.maxSegments}`,
    );
  const perSlot =
    options.slots && options.slots > 0 ? duration / (options.slots * PIECES_PER_SLOT) : 0;
  const target = Math.max(options.segmentSeconds, duration / options.maxSegments, perSlot);
  // "About two segments" or less: a split would only add joins.
  if (duration < 2 * target * 0.95 || options.maxSegments === 1)
    return { cuts: [], targetSeconds: target };

  const usable = (time: number, last: number) =>
    // Every piece is at least `target` long, so the count stays within maxSegments; the tail is
    // left at least half a segment, else it becomes a tiny extra piece.
    time - last >= target - 1e-6 && duration - time >= target / 2;
  const cuts: number[] = [];
  let last = 0;
  for (let i = 0; i < keyframes.length; i++) {
    const time = keyframes[i]!;
    if (time <= last || time - last < target - 1e-6) continue;
    if (!usable(time, last)) break;
    // A cut off the HLS grid adds a keyframe one encode of the whole source would not have
    // (measured +5% bytes on a 5 s clip cut once): a keyframe on the grid up to one target
    // further is taken instead (pieces only grow, so the count stays within maxSegments).
    const align = options.alignSeconds;
    const onGrid = (t: number) =>
      align !== undefined && Math.abs(t / align - Math.round(t / align)) * align < 0.02;
    let cut = time;
    if (align !== undefined && !onGrid(time)) {
      const better = keyframes
        .slice(i + 1)
        .find((t) => t <= time + target && onGrid(t) && usable(t, last));
      if (better !== undefined) cut = better;
    }
    cuts.push(cut);
    last = cut;
  }
  return { cuts, targetSeconds: target };
}

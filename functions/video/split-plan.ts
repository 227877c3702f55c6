/**
 * Where to cut a video for parallel transcoding. Pure.
 *
 * Cuts go only at keyframes that start closed GOPs (see `closedKeyframeTimes`), about every
 * `segmentSeconds`, never more than `maxSegments` pieces (the length grows instead), and a source
 * shorter than about two segments is not cut at all.
 */
export interface SplitPlanOptions {
  segmentSeconds: number;
  maxSegments: number;
}

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
  const target = Math.max(options.segmentSeconds, duration / options.maxSegments);
  // "About two segments" or less: a split would only add joins.
  if (duration < 2 * target * 0.95 || options.maxSegments === 1)
    return { cuts: [], targetSeconds: target };

  const cuts: number[] = [];
  let last = 0;
  for (const time of keyframes) {
    if (time <= last) continue;
    // Every piece is at least `target` long, so the count stays within maxSegments.
    if (time - last < target - 1e-6) continue;
    // Leave the tail at least half a segment, else it becomes a tiny extra piece.
    if (duration - time < target / 2) break;
    cuts.push(time);
    last = time;
  }
  return { cuts, targetSeconds: target };
}

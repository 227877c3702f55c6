import PQueue from 'p-queue';

/**
 * Storage round trips a task keeps in flight at once: enough to hide latency, few enough to be
 * polite.
 */
export const STORAGE_PARALLELISM = 8;

/** Maps over items with at most `limit` calls in flight, keeping the results in order. */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  fn: (item: T) => Promise<R>,
  limit = STORAGE_PARALLELISM,
): Promise<R[]> {
  const queue = new PQueue({ concurrency: limit });
  return Promise.all(items.map((item) => queue.add(() => fn(item))));
}

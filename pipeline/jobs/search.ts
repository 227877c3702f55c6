import type { JobRecord } from './job.js';

/**
 * Jobs one search call of the Redis store looks at, at most: a search that matches little
 * returns a short (even empty) page with a cursor to resume from, instead of reading every job.
 */
export const SEARCH_BUDGET = 1000;

/**
 * Lower case for ASCII letters only, as SQLite's `lower()` and Lua's `string.lower` do, so every
 * store matches the same jobs ("Ä" matches "Ä" only).
 */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Whether a search (`q`, already lowered) is a substring of the job's source key or preset. */
export function matchesSearch(job: JobRecord, needle: string): boolean {
  return (
    asciiLower(job.spec.source.key).includes(needle) ||
    asciiLower(job.spec.preset.name).includes(needle)
  );
}

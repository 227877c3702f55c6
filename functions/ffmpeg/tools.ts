import type { Binaries } from './binaries.js';

/**
 * What a media function needs to run ffmpeg, resolved once at the entry point (CLI/worker) and
 * passed down, so no function reads the environment.
 */
export interface MediaTools {
  binaries: Binaries;
  /** Hard limit for one long media process (split, transcode, merge); a hung ffmpeg is killed. */
  processTimeoutMs: number;
  /**
   * Limit for quick inspections (ffprobe of headers, a one-frame decode). Hostile files must fail
   * fast.
   */
  probeTimeoutMs: number;
}

/**
 * Default quick-inspection limit: long enough for a slow disk, short enough that a hostile file
 * fails fast.
 */
export const DEFAULT_PROBE_TIMEOUT_MS = 15_000;

import type { Binaries } from './binaries.js';
import type { Confinement } from './confine.js';

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
  /**
   * Decoder names every ffmpeg/ffprobe input is limited to (`-codec_whitelist` before each `-i`),
   * from the same codec allow-list the probe enforces (see `decodersFor`). Unset: no limit, for
   * tests of other things.
   */
  decoderWhitelist?: readonly string[] | undefined;
  /**
   * Limits and sandbox for every media process (see confine.ts). Unset: no limits or sandbox;
   * the environment is minimal either way.
   */
  confinement?: Confinement | undefined;
}

/**
 * Default quick-inspection limit: long enough for a slow disk, short enough that a hostile file
 * fails fast.
 */
export const DEFAULT_PROBE_TIMEOUT_MS = 15_000;

import { resolveBinaries } from '../../functions/ffmpeg/binaries.js';
import { DEFAULT_PROBE_TIMEOUT_MS, type MediaTools } from '../../functions/ffmpeg/tools.js';
import type { Config } from '../config/load.js';

/**
 * The ffmpeg tools for media functions, from configuration (binaries are resolved once per
 * process).
 */
export async function mediaTools(config: Config): Promise<MediaTools> {
  return {
    binaries: await resolveBinaries({
      ffmpegPath: config.ffmpegPath,
      ffprobePath: config.ffprobePath,
    }),
    processTimeoutMs: config.worker.processTimeoutMs,
    probeTimeoutMs: DEFAULT_PROBE_TIMEOUT_MS,
  };
}

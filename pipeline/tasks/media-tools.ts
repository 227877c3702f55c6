import {
  resolveBinaries,
  type Binaries,
  type BinaryOverrides,
} from '../../functions/ffmpeg/binaries.js';
import type { Capabilities } from '../../functions/ffmpeg/capabilities.js';
import { describeVersion } from '../../functions/ffmpeg/version.js';
import { DEFAULT_PROBE_TIMEOUT_MS, type MediaTools } from '../../functions/ffmpeg/tools.js';
import type { Config } from '../config/load.js';

/**
 * The ffmpeg tools for media functions, from configuration (binaries are resolved once per
 * process).
 */
export async function mediaTools(config: Config): Promise<MediaTools> {
  return {
    binaries: await resolveBinaries(binaryOptions(config)),
    processTimeoutMs: config.worker.processTimeoutMs,
    probeTimeoutMs: DEFAULT_PROBE_TIMEOUT_MS,
  };
}

/** How the configuration picks ffmpeg/ffprobe (one place, so the app and the tasks agree). */
export function binaryOptions(config: Config): BinaryOverrides {
  return {
    ffmpegPath: config.ffmpegPath,
    ffprobePath: config.ffprobePath,
    allowOutdated: config.ffmpegAllowOutdated,
  };
}

/** What operators need to know about the tools in use: versions, where they came from, paths. */
export function binarySummary(binaries: Binaries): {
  ffmpeg: { version: string; source: string; path: string };
  ffprobe: { version: string; source: string; path: string };
} {
  const one = (tool: 'ffmpeg' | 'ffprobe') => ({
    version: describeVersion(binaries.versions[tool]),
    source: binaries.sources[tool],
    path: binaries[tool],
  });
  return { ffmpeg: one('ffmpeg'), ffprobe: one('ffprobe') };
}

/** Filters presets commonly depend on, named in the start-up log and /readyz. */
const NOTABLE_FILTERS = ['zscale', 'tonemap', 'libvmaf', 'drawtext'] as const;

/** The capabilities operators ask about first: notable filters, usable hardware, counts. */
export function capabilitySummary(caps: Capabilities): {
  filters: Record<(typeof NOTABLE_FILTERS)[number], boolean>;
  hwDevices: string[];
  counts: { encoders: number; decoders: number; filters: number };
} {
  return {
    filters: Object.fromEntries(NOTABLE_FILTERS.map((f) => [f, caps.filters.has(f)])) as Record<
      (typeof NOTABLE_FILTERS)[number],
      boolean
    >,
    hwDevices: [...caps.hwDevices],
    counts: {
      encoders: caps.encoders.size,
      decoders: caps.decoders.size,
      filters: caps.filters.size,
    },
  };
}

import os from 'node:os';
import {
  resolveBinaries,
  type Binaries,
  type BinaryOverrides,
} from '../../functions/ffmpeg/binaries.js';
import {
  decodersFor,
  probeCapabilities,
  type Capabilities,
} from '../../functions/ffmpeg/capabilities.js';
import { resolveConfinement, type ResolvedConfinement } from '../../functions/ffmpeg/confine.js';
import { describeVersion } from '../../functions/ffmpeg/version.js';
import { DEFAULT_ALLOWED_CODECS, INTERNAL_INPUT_CODECS } from '../../functions/video/limits.js';
import { DEFAULT_PROBE_TIMEOUT_MS, type MediaTools } from '../../functions/ffmpeg/tools.js';
import type { Config } from '../config/load.js';

/**
 * The ffmpeg tools for media functions, from configuration (binaries are resolved once per
 * process).
 */
export async function mediaTools(config: Config): Promise<MediaTools> {
  const binaries = await resolveBinaries(binaryOptions(config));
  return {
    binaries,
    decoderWhitelist: await allowedDecoders(binaries),
    confinement: (await mediaConfinement(config, binaries)).confinement,
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
    cacheDir: config.toolCacheDir,
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

/**
 * The decoders ffmpeg may open: those of the codecs the probe allows, plus the watermark images'.
 * Computed from this ffmpeg's own decoder list (decoder names differ between builds).
 */
export async function allowedDecoders(binaries: Binaries): Promise<string[]> {
  const caps = await probeCapabilities(binaries);
  return decodersFor(caps, [...DEFAULT_ALLOWED_CODECS, ...INTERNAL_INPUT_CODECS]);
}

/**
 * Limits and sandbox for media processes, from configuration. The CPU limit is a backstop behind
 * the wall-clock limit: that limit's seconds on every core.
 */
export function mediaConfinement(config: Config, binaries: Binaries): Promise<ResolvedConfinement> {
  return resolveConfinement(binaries, {
    sandbox: config.media.sandbox,
    limits: {
      addressSpaceBytes: config.media.memoryBytes,
      cpuSeconds: Math.ceil(config.worker.processTimeoutMs / 1000) * os.availableParallelism(),
      fileSizeBytes: config.media.fileSizeBytes,
    },
    searchPath: process.env.PATH ?? '',
  });
}

import { resolveBinaries } from '../../functions/ffmpeg/binaries.js';
import type { Config } from '../config/load.js';
import { binaryOptions, binarySummary } from '../tasks/media-tools.js';
import { MEDIAFLOW_VERSION } from '../version.js';
import { EXIT } from './exit-codes.js';

/**
 * `mediaflow --version`: this package's version and the ffmpeg/ffprobe that would run the media
 * work, picked exactly as `serve` and `worker` pick them (so an outdated build fails here too).
 */
export async function runVersion(config: Config): Promise<number> {
  const binaries = await resolveBinaries(binaryOptions(config));
  const summary = binarySummary(binaries);
  const lines = [`mediaflow ${MEDIAFLOW_VERSION}`];
  for (const tool of ['ffmpeg', 'ffprobe'] as const) {
    const { version, source, path } = summary[tool];
    lines.push(`${tool} ${version} [${source}: ${path}]`);
  }
  for (const warning of binaries.warnings) lines.push(`warning: ${warning}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.OK;
}

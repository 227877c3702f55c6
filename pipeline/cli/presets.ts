import type { PresetView } from '../api/preset-view.js';
import type { Route } from '../presets/file-schema.js';
import { EXIT, type ExitCode } from './exit-codes.js';

export interface PresetListing {
  presets: PresetView[];
  routes: Route[];
}

/**
 * `mediaflow presets [name]`: the presets in force (one line each, or one preset's resolved
 * settings) and the routes. From this machine's configuration, or from a server with `--api`.
 */
export function runPresets(
  name: string | undefined,
  options: { json: boolean },
  listing: PresetListing,
): ExitCode {
  const { presets, routes } = listing;
  if (name !== undefined) {
    const preset = presets.find((p) => p.name === name);
    if (!preset) {
      process.stderr.write(
        `mediaflow: PRESET_UNKNOWN: Unknown preset "${name}"; expected one of ` +
          `${presets.map((p) => p.name).join(', ')}\n`,
      );
      return EXIT.USAGE;
    }
    process.stdout.write(JSON.stringify(preset, null, 2) + '\n');
    return EXIT.OK;
  }
  if (options.json) {
    process.stdout.write(JSON.stringify({ presets, routes }, null, 2) + '\n');
    return EXIT.OK;
  }
  const width = Math.max(...presets.map((p) => p.name.length));
  for (const preset of presets)
    process.stdout.write(
      `${preset.name.padEnd(width)}  ${preset.kind.padEnd(5)}  ${preset.origin.padEnd(7)}  ` +
        `${summary(preset)}\n`,
    );
  process.stdout.write(
    routes.length
      ? `\nroutes (first match wins):\n` +
          routes.map((r, i) => `  ${i}. ${routeText(r)}\n`).join('')
      : '\nno routes: the preset is chosen from the media type (video, image, audio)\n',
  );
  return EXIT.OK;
}

/** The settings people look for first, in one line. */
export function summary(preset: PresetView): string {
  const mark = (w: { type: string; text?: string } | undefined) =>
    w ? `, watermark ${w.type === 'text' ? JSON.stringify(w.text) : 'image'}` : '';
  switch (preset.kind) {
    case 'video':
      return (
        `ladder ${preset.ladder.join('/')}, CRF ${preset.crf}, ${preset.x264Preset}` +
        `${preset.hls ? ', HLS' : ''}${preset.mp4 ? ', MP4' : ''}${mark(preset.watermark)}`
      );
    case 'image':
      return (
        `widths ${preset.widths.join('/')}, ${preset.formats.join('/')}` + mark(preset.watermark)
      );
    case 'audio':
      return `${preset.formats.join('/')} at ${preset.bitrateKbps} kb/s`;
  }
}

function routeText(route: Route): string {
  const when = [
    route.bucket && `bucket ${route.bucket}`,
    route.prefix && `prefix ${route.prefix}`,
    route.glob && `glob ${route.glob}`,
    route.contentType && `type ${route.contentType}`,
    route.minBytes !== undefined && `>= ${route.minBytes} B`,
    route.maxBytes !== undefined && `<= ${route.maxBytes} B`,
  ].filter(Boolean);
  return `${when.length ? when.join(', ') : 'everything'} -> ${route.presets.join(', ')}`;
}

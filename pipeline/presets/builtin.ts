import path from 'node:path';
import { MediaflowError } from '../../functions/errors.js';
import { presetSchema, type Preset } from './schema.js';

/** The presets every installation has. `video`, `image` and `audio` are picked by media type. */
export const BUILTIN_PRESETS: readonly Preset[] = [
  presetSchema.parse({ name: 'video', kind: 'video' }),
  presetSchema.parse({ name: 'video-sd', kind: 'video', ladder: [480, 360, 240] }),
  presetSchema.parse({ name: 'image', kind: 'image' }),
  presetSchema.parse({
    name: 'image-watermarked',
    kind: 'image',
    watermark: { type: 'image', source: { sample: 'watermark.png' } },
  }),
  presetSchema.parse({ name: 'audio', kind: 'audio' }),
];

export function findPreset(name: string, presets: readonly Preset[] = BUILTIN_PRESETS): Preset {
  const preset = presets.find((p) => p.name === name);
  if (!preset)
    throw new MediaflowError(
      'PRESET_UNKNOWN',
      `Unknown preset "${name}"; expected one of ${presets.map((p) => p.name).join(', ')}`,
    );
  return preset;
}

const VIDEO = new Set([
  '.mp4',
  '.m4v',
  '.mov',
  '.mkv',
  '.webm',
  '.avi',
  '.ogv',
  '.flv',
  '.3gp',
  '.mpg',
  '.mpeg',
  '.ts',
  '.mts',
  '.wmv',
  '.asf',
  '.rmvb',
]);
const IMAGE = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.avif',
  '.gif',
  '.tif',
  '.tiff',
  '.heic',
  '.heif',
]);
const AUDIO = new Set(['.mp3', '.wav', '.flac', '.m4a', '.aac', '.ogg', '.oga', '.opus', '.wma']);

/**
 * The default preset for a source, from its Content-Type and then its extension. This only picks
 * a plan: the functions judge the bytes themselves, so a misnamed file still fails cleanly.
 */
export function presetNameFor(key: string, contentType?: string): 'video' | 'image' | 'audio' {
  const major = contentType?.split('/')[0];
  if (major === 'video' || major === 'image' || major === 'audio') return major;
  const ext = path.extname(key).toLowerCase();
  if (IMAGE.has(ext)) return 'image';
  if (AUDIO.has(ext)) return 'audio';
  if (VIDEO.has(ext)) return 'video';
  return 'video';
}

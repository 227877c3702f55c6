import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../../functions/ffmpeg/capabilities.js';
import { BUILTIN_CATALOG } from '../../pipeline/presets/catalog.js';
import { checkPresetNeeds, presetNeeds } from '../../pipeline/presets/needs.js';
import { presetSchema } from '../../pipeline/presets/schema.js';

const caps = (encoders: string[], filters: string[]): Capabilities => ({
  encoders: new Set(encoders),
  decoders: new Set(),
  filters: new Set(filters),
  hwaccels: new Set(),
  hwDevices: new Set(),
});
const binaries = {
  ffmpeg: '/usr/bin/ffmpeg',
  versions: {
    ffmpeg: { line: 'ffmpeg version 5.1', release: '5.1', libavcodec: [59, 37, 100] },
  },
} as Parameters<typeof checkPresetNeeds>[2];

describe('what presets need from ffmpeg', () => {
  const av1 = presetSchema.parse({
    name: 'av1-too',
    kind: 'video',
    codecs: ['h264', 'av1'],
    watermark: { type: 'text', text: 'hi' },
  });

  it('lists encoders by codec and the overlay filter for any watermark, never drawtext', () => {
    expect(presetNeeds(av1)).toEqual({
      encoders: ['libx264', 'libaom-av1', 'aac'],
      filters: ['scale', 'split', 'zscale', 'tonemap', 'overlay'],
    });
    expect(
      presetNeeds(presetSchema.parse({ name: 'a', kind: 'audio', formats: ['opus'] })),
    ).toEqual({ encoders: ['libopus'], filters: ['loudnorm'] });
    expect(presetNeeds(presetSchema.parse({ name: 'i', kind: 'image' }))).toEqual({});
  });

  it("refuses a file's preset this ffmpeg cannot run, and only warns for built-ins", () => {
    const warnings: string[] = [];
    const log = { warn: (_o: object, m?: string) => void warnings.push(m ?? '') };
    const noOpus = caps(
      ['libx264', 'aac', 'libmp3lame'],
      ['scale', 'split', 'zscale', 'tonemap', 'overlay', 'loudnorm'],
    );
    checkPresetNeeds(BUILTIN_CATALOG, noOpus, binaries, log);
    expect(warnings).toEqual(['The preset "audio" cannot run here: no encoder libopus']);

    const catalog = { ...BUILTIN_CATALOG, file: '/etc/presets.yaml', presets: [av1] };
    expect(() => checkPresetNeeds(catalog, noOpus, binaries, log)).toThrow(
      expect.objectContaining({
        code: 'CAPABILITY_MISSING',
        message: expect.stringMatching(
          new RegExp(
            '^The preset "av1-too" of /etc/presets\\.yaml needs encoder libaom-av1, which the ' +
              'ffmpeg at /usr/bin/ffmpeg',
          ),
        ),
      }),
    );
  });
});

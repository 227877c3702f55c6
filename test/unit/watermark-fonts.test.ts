import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readFamily } from '../../functions/image/font-family.js';
import { presetSchema } from '../../pipeline/presets/schema.js';

describe('watermark fonts', () => {
  it('reads the family a font file declares, and nothing from other files', () => {
    expect(readFamily(fs.readFileSync('samples/assets/fonts/DejaVuSans.ttf'))).toBe('DejaVu Sans');
    expect(readFamily(fs.readFileSync('samples/assets/watermark.png'))).toBe(undefined);
    expect(readFamily(Buffer.from([0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0]))).toBe(undefined);
  });

  it('ships the default font with its licence, and presets default to it', () => {
    expect(fs.readFileSync('samples/assets/fonts/LICENSE', 'utf8')).toContain(
      'Permission is hereby granted, free of charge',
    );
    const preset = presetSchema.parse({
      name: 'v',
      kind: 'video',
      watermark: { type: 'text', text: 'hello' },
    });
    expect(preset.kind === 'video' && preset.watermark).toMatchObject({
      type: 'text',
      font: { sample: 'DejaVuSans.ttf' },
      color: '#ffffff',
    });
    expect(() =>
      presetSchema.parse({
        name: 'v',
        kind: 'video',
        watermark: { type: 'text', text: 'x', font: { sample: '../etc/passwd' } },
      }),
    ).toThrow(/TTF or OTF file name/);
  });
});

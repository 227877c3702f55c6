import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readFamily } from '../../functions/image/font-family.js';
import { watermarkBox } from '../../functions/image/watermark.js';
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

describe('text size', () => {
  it('sizes text by height with fontSize, by width with scale', () => {
    const spec = { position: 'top-left' as const, margin: 0, scale: 0.5 };
    // A 4:1 text on 1920x1080: fontSize 0.05 is 54 px tall, 216 px wide.
    expect(watermarkBox({ ...spec, fontSize: 0.05 }, 1920, 1080, 4)).toEqual({
      left: 0,
      top: 0,
      width: 216,
      height: 54,
    });
    expect(watermarkBox(spec, 1920, 1080, 4)).toMatchObject({ width: 960, height: 240 });
    // Still shrunk to fit inside the output.
    expect(watermarkBox({ ...spec, fontSize: 0.5 }, 400, 400, 4)).toMatchObject({ width: 400 });
    expect(() =>
      presetSchema.parse({
        name: 'v',
        kind: 'video',
        watermark: { type: 'text', text: 'x', fontSize: 0.9 },
      }),
    ).toThrow();
  });
});

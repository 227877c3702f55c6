import { describe, expect, it } from 'vitest';
import { MediaflowError } from '../../functions/errors.js';
import { parseImageParams } from '../../functions/image/params.js';

function messageOf(input: unknown): string {
  try {
    parseImageParams(input);
  } catch (error) {
    expect(error).toBeInstanceOf(MediaflowError);
    expect((error as MediaflowError).code).toBe('REQUEST_INVALID');
    expect((error as MediaflowError).retryable).toBe(false);
    return (error as Error).message;
  }
  throw new Error('expected parseImageParams to throw');
}

describe('parseImageParams', () => {
  it('fills every default', () => {
    expect(parseImageParams({})).toEqual({
      widths: [320, 640, 1280, 1920],
      formats: ['jpeg', 'webp', 'avif'],
      quality: { jpeg: 80, webp: 78, avif: 55 },
      limits: { maxPixels: 100_000_000, maxFrames: 500, maxTotalPixels: 250_000_000 },
    });
    expect(parseImageParams(undefined).widths).toEqual([320, 640, 1280, 1920]);
  });

  it('fills watermark placement defaults and keeps partial quality', () => {
    const params = parseImageParams({
      quality: { avif: 40 },
      watermark: { type: 'text', text: 'hi' },
    });
    expect(params.quality).toEqual({ jpeg: 80, webp: 78, avif: 40 });
    expect(params.watermark).toEqual({
      type: 'text',
      text: 'hi',
      color: '#ffffff',
      position: 'bottom-right',
      margin: 0.02,
      opacity: 0.7,
      scale: 0.15,
    });
  });

  it.each([
    [{ widths: [8] }, 'Expected a number >= 16 for params.widths.0 but received 8'],
    [{ widths: [640.5] }, 'Expected an integer for params.widths.0 but received 640.5'],
    [{ widths: [] }, 'Expected a list of at least 1 items for params.widths but received []'],
    [
      { formats: ['png'] },
      'Expected one of "jpeg", "webp", "avif" for params.formats.0 but received "png"',
    ],
    [
      { quality: { jpeg: 101 } },
      'Expected a number <= 100 for params.quality.jpeg but received 101',
    ],
    [{ widhts: [320] }, 'Expected only known keys for params but received widhts'],
    [
      { watermark: { type: 'logo' } },
      'Expected one of "image", "text" for params.watermark.type but received "logo"',
    ],
    [
      { watermark: { type: 'image' } },
      'Expected a string for params.watermark.file but received undefined',
    ],
    [
      { watermark: { type: 'text', text: 'x', opacity: 1.5 } },
      'Expected a number <= 1 for params.watermark.opacity but received 1.5',
    ],
    [
      { watermark: { type: 'text', text: 'x', position: 'middle' } },
      'Expected one of "top-left", "top", "top-right", "left", "center", "right", ' +
        '"bottom-left", "bottom", "bottom-right" for params.watermark.position but received ' +
        '"middle"',
    ],
    [
      { watermark: { type: 'text', text: 'x', color: 'red' } },
      'Expected a colour like #ffffff for params.watermark.color but received "red"',
    ],
    [
      { watermark: { type: 'text', text: 'a\u0000b' } },
      'Expected text without control characters for params.watermark.text but received "a\\u0000b"',
    ],
    [
      { watermark: { type: 'text', text: '   ' } },
      'Expected text with at least one visible character for params.watermark.text but ' +
        'received "   "',
    ],
    [
      { watermark: { type: 'text', text: 'x'.repeat(201) } },
      `Expected a string of at most 200 characters for params.watermark.text but received ` +
        `"${'x'.repeat(56)}...`,
    ],
    [
      { limits: { maxPixels: 0 } },
      'Expected a number >= 1 for params.limits.maxPixels but received 0',
    ],
    [42, 'Expected an object for params but received 42'],
  ])('words %j as the project does', (input, message) => {
    expect(messageOf(input)).toBe(message);
  });

  it('reports every problem, one sentence each', () => {
    expect(messageOf({ widths: [8], formats: [] })).toBe(
      'Expected a number >= 16 for params.widths.0 but received 8; Expected a list of at least ' +
        '1 items for params.formats but received []',
    );
  });
});

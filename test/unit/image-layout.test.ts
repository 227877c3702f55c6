import { describe, expect, it } from 'vitest';
import { outputName } from '../../functions/image/encoders.js';
import { planWidths } from '../../functions/image/ladder.js';
import { threadsPerImage } from '../../functions/image/sharp-settings.js';
import { escapeXml, textWatermarkSvg, watermarkBox } from '../../functions/image/watermark.js';

describe('planWidths', () => {
  it('keeps widths below the source, ascending and unique', () => {
    expect(planWidths([1920, 320, 640, 1280, 640], 4000)).toEqual([320, 640, 1280, 1920]);
  });
  it('replaces widths above the source by the source width, once', () => {
    expect(planWidths([320, 640, 1280, 1920], 1000)).toEqual([320, 640, 1000]);
    expect(planWidths([320, 640, 1280, 1920], 1280)).toEqual([320, 640, 1280]);
  });
  it('always yields at least one width, never above the source', () => {
    expect(planWidths([320, 640], 100)).toEqual([100]);
    expect(planWidths([1920], 1)).toEqual([1]);
  });
});

describe('outputName', () => {
  it('is generated from numbers and a fixed extension', () => {
    expect(outputName(640, 'webp')).toBe('w640.webp');
    expect(outputName(320, 'jpeg')).toBe('w320.jpg');
    expect(outputName(1920, 'avif')).toBe('w1920.avif');
  });
});

describe('watermarkBox', () => {
  const spec = { margin: 0.02, scale: 0.25 };
  it.each([
    ['top-left', 16, 16],
    ['top', 300, 16],
    ['top-right', 584, 16],
    ['left', 16, 263],
    ['center', 300, 263],
    ['right', 584, 263],
    ['bottom-left', 16, 509],
    ['bottom', 300, 509],
    ['bottom-right', 584, 509],
  ] as const)('places %s', (position, left, top) => {
    // 800x600 output: 200 px wide (0.25), 75 high (aspect 8:3), 16 px margin (0.02).
    expect(watermarkBox({ ...spec, position }, 800, 600, 8 / 3)).toEqual({
      left,
      top,
      width: 200,
      height: 75,
    });
  });
  it('shrinks a watermark that would not fit inside the margins', () => {
    // Full width requested on a short, wide output: the height decides.
    expect(watermarkBox({ position: 'center', margin: 0, scale: 1 }, 1000, 100, 2)).toEqual({
      left: 400,
      top: 0,
      width: 200,
      height: 100,
    });
  });
  it('gives nothing below a pixel', () => {
    expect(watermarkBox({ position: 'center', margin: 0, scale: 0.01 }, 40, 40, 1)).toBeUndefined();
  });
});

describe('text watermark SVG', () => {
  it('escapes every XML special character', () => {
    expect(escapeXml(`<a href="x">Tom & Jerry's</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;',
    );
  });
  it('cannot be broken out of by the text', () => {
    const hostile = '</text><image href="file:///etc/passwd"/><text>';
    const svg = textWatermarkSvg(hostile, '#ffffff', 40);
    expect(svg).not.toContain('<image');
    expect(svg).toContain(
      '&lt;/text&gt;&lt;image href=&quot;file:///etc/passwd&quot;/&gt;&lt;text&gt;',
    );
    expect(svg.match(/<text /g)).toHaveLength(1);
  });
});

describe('threadsPerImage', () => {
  it('shares the cores among the tasks a worker runs at once', () => {
    expect(threadsPerImage(16, 16)).toBe(1);
    expect(threadsPerImage(16, 4)).toBe(4);
    expect(threadsPerImage(16, 1)).toBe(16);
    expect(threadsPerImage(2, 8)).toBe(1);
    expect(threadsPerImage(4, 0)).toBe(4);
  });
});

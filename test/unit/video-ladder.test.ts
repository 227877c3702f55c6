import { describe, expect, it } from 'vitest';
import {
  computeLadder,
  DEFAULT_MAX_BITRATES,
  interpolateCap,
} from '../../functions/video/ladder.js';

const sizes = (w: number, h: number, heights?: number[]) =>
  computeLadder({ displayWidth: w, displayHeight: h }, heights ? { heights } : {}).map(
    (r) => `${r.width}x${r.height}`,
  );

describe('computeLadder', () => {
  it('gives a 1080p landscape source the default four rungs, largest first', () => {
    const ladder = computeLadder({ displayWidth: 1920, displayHeight: 1080 });
    expect(ladder.map((r) => [r.name, r.width, r.height])).toEqual([
      ['1080p', 1920, 1080],
      ['720p', 1280, 720],
      ['480p', 854, 480],
      ['360p', 640, 360],
    ]);
    expect(ladder.map((r) => r.maxBitrate)).toEqual([6_000_000, 3_000_000, 1_500_000, 800_000]);
    expect(ladder.every((r) => r.bufferBits === 2 * r.maxBitrate)).toBe(true);
  });

  it('never upscales', () => {
    expect(sizes(1280, 720)).toEqual(['1280x720', '854x480', '640x360']);
    expect(sizes(640, 360)).toEqual(['640x360']);
    for (const r of computeLadder({ displayWidth: 1000, displayHeight: 562 })) {
      expect(r.width).toBeLessThanOrEqual(1000);
      expect(r.height).toBeLessThanOrEqual(562);
    }
  });

  it(
    'keeps one rendition at the source size (even) when ' + 'the source is smaller than every rung',
    () => {
      expect(sizes(320, 180)).toEqual(['320x180']);
      expect(sizes(321, 241)).toEqual(['320x240']);
      expect(computeLadder({ displayWidth: 176, displayHeight: 144 })[0]!.name).toBe('144p');
    },
  );

  it('gives portrait sources a portrait ladder (rungs apply to the short side)', () => {
    expect(sizes(1080, 1920)).toEqual(['1080x1920', '720x1280', '480x854', '360x640']);
    expect(sizes(360, 640)).toEqual(['360x640']);
  });

  it('keeps the aspect ratio and even dimensions for odd shapes', () => {
    for (const [w, h] of [
      [1918, 1080],
      [720, 405],
      [1440, 1080],
      [2560, 1080],
      [853, 480],
      [999, 777],
    ] as const) {
      for (const r of computeLadder({ displayWidth: w, displayHeight: h })) {
        expect(r.width % 2).toBe(0);
        expect(r.height % 2).toBe(0);
        // Within rounding to even numbers.
        expect(Math.abs(r.width / r.height - w / h)).toBeLessThan(
          2.5 / Math.min(r.width, r.height),
        );
      }
    }
    expect(sizes(1440, 1080)).toEqual(['1440x1080', '960x720', '640x480', '480x360']);
  });

  it('caps other shapes by pixel count, monotonic in size', () => {
    const square = computeLadder({ displayWidth: 1080, displayHeight: 1080 });
    expect(square.map((r) => r.name)).toEqual(['1080p', '720p', '480p', '360p']);
    const caps = square.map((r) => r.maxBitrate);
    expect([...caps].sort((a, b) => b - a)).toEqual(caps);
    // A 1080x1080 picture has fewer pixels than 1920x1080, so a lower cap.
    expect(caps[0]).toBeLessThan(DEFAULT_MAX_BITRATES[1080]!);
    expect(caps[0]).toBeGreaterThan(DEFAULT_MAX_BITRATES[720]!);
    expect(interpolateCap(1280 * 720)).toBe(3_000_000);
    expect(interpolateCap(100 * 100)).toBeGreaterThan(0);
  });

  it('takes custom rungs, ignores duplicates and nonsense', () => {
    expect(sizes(1920, 1080, [720, 720, 0, -5, 1.5, 2160])).toEqual(['1280x720']);
    expect(sizes(1920, 1080, [2160])).toEqual(['1920x1080']);
  });

  it('refuses a zero size', () => {
    expect(() => computeLadder({ displayWidth: 0, displayHeight: 1080 })).toThrow(
      'Expected a positive display size but received 0x1080',
    );
  });
});

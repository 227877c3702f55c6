import { describe, expect, it } from 'vitest';
import { videoPresetSchema } from '../../pipeline/presets/schema.js';

describe('video preset streaming fields', () => {
  it('defaults to CMAF with DASH, H.264 only, SDR only', () => {
    const preset = videoPresetSchema.parse({ name: 'v', kind: 'video' });
    expect(preset).toMatchObject({
      packaging: 'cmaf',
      dash: true,
      codecs: ['h264'],
      keepHdr: false,
    });
  });

  it('accepts every codec set that keeps H.264', () => {
    const preset = videoPresetSchema.parse({
      name: 'v',
      kind: 'video',
      codecs: ['h264', 'hevc', 'av1'],
      packaging: 'ts',
    });
    expect(preset.codecs).toEqual(['h264', 'hevc', 'av1']);
    expect(preset.packaging).toBe('ts');
  });

  it('refuses a codec set without the H.264 fallback, and repeats', () => {
    const without = videoPresetSchema.safeParse({ name: 'v', kind: 'video', codecs: ['av1'] });
    expect(without.success).toBe(false);
    expect(without.error?.issues[0]?.message).toBe('codecs must include h264, the fallback');
    const twice = videoPresetSchema.safeParse({
      name: 'v',
      kind: 'video',
      codecs: ['h264', 'h264'],
    });
    expect(twice.error?.issues[0]?.message).toBe('codecs must not repeat');
    expect(videoPresetSchema.safeParse({ name: 'v', kind: 'video', codecs: ['vp9'] }).success).toBe(
      false,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { missingCapabilities, requireCapabilities } from '../../functions/ffmpeg/capabilities.js';
import { presetNeeds, unbuiltSettings } from '../../pipeline/presets/needs.js';
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

  it('accepts every codec set that keeps H.264, in fMP4: MPEG-TS HLS carries H.264 only', () => {
    const preset = videoPresetSchema.parse({
      name: 'v',
      kind: 'video',
      codecs: ['h264', 'hevc', 'av1'],
    });
    expect(preset.codecs).toEqual(['h264', 'hevc', 'av1']);
    expect(preset.packaging).toBe('cmaf');
    const ts = videoPresetSchema.safeParse({
      name: 'v',
      kind: 'video',
      codecs: ['h264', 'hevc'],
      packaging: 'ts',
    });
    expect(ts.error?.issues[0]?.message).toMatch(/need packaging cmaf/);
    expect(videoPresetSchema.safeParse({ name: 'v', kind: 'video', packaging: 'ts' }).success).toBe(
      true,
    );
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

describe('what a video preset needs of ffmpeg', () => {
  const caps = {
    encoders: new Set(['libx264']),
    decoders: new Set<string>(),
    filters: new Set(['scale', 'tonemap']),
    hwaccels: new Set<string>(),
    hwDevices: new Set<string>(),
  };
  const version = { release: '5.1.6', libavcodec: [59, 37, 100] };
  const bin = { ffmpeg: '/opt/ffmpeg', versions: { ffmpeg: version, ffprobe: version } } as never;

  it('names the missing encoders and zscale, and how to get them', () => {
    const preset = videoPresetSchema.parse({ name: 'v', kind: 'video', codecs: ['h264', 'av1'] });
    expect(presetNeeds(preset)).toEqual({
      encoders: ['libx264', 'libaom-av1', 'aac'],
      filters: ['scale', 'split', 'zscale', 'tonemap'],
    });
    expect(missingCapabilities(caps, presetNeeds(preset))).toEqual([
      'encoder libaom-av1',
      'encoder aac',
      'filter split',
      'filter zscale',
    ]);
    expect(() => requireCapabilities(caps, presetNeeds(preset), 'The preset "v"', bin)).toThrow(
      /The preset "v" needs encoder libaom-av1, .*filter zscale, .*apt-get install ffmpeg/,
    );
    expect(unbuiltSettings(preset)).toEqual([]);
  });
});

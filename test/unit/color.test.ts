import { describe, expect, it } from 'vitest';
import { matrixConversion, toneMapFilters } from '../../functions/ffmpeg/args/color.js';
import { parseColor } from '../../functions/video/color.js';

describe('colour from the probe', () => {
  it('recognises HDR10 with its light level, HLG, and SDR', () => {
    const pq = parseColor({
      pix_fmt: 'yuv420p10le',
      color_primaries: 'bt2020',
      color_transfer: 'smpte2084',
      color_space: 'bt2020nc',
      color_range: 'tv',
      side_data_list: [
        { side_data_type: 'Mastering display metadata', max_luminance: '10000000/10000' },
        { side_data_type: 'Content light level metadata', max_content: 1500, max_average: 400 },
      ],
    });
    expect(pq).toMatchObject({ dynamicRange: 'PQ', bitDepth: 10, peakNits: 1500 });
    expect(parseColor({ color_transfer: 'arib-std-b67' }).dynamicRange).toBe('HLG');
    expect(parseColor({ pix_fmt: 'yuv420p', color_transfer: 'bt709' })).toMatchObject({
      dynamicRange: 'SDR',
      bitDepth: 8,
      peakNits: null,
    });
    expect(parseColor({ color_transfer: 'unknown' }).transfer).toBeNull();
  });

  it('takes a Dolby Vision 8.4 stream as HLG from its configuration record', () => {
    const dv = parseColor({
      pix_fmt: 'yuv420p10le',
      side_data_list: [
        {
          side_data_type: 'DOVI configuration record',
          dv_profile: 8,
          dv_bl_signal_compatibility_id: 4,
        },
      ],
    });
    expect(dv).toMatchObject({
      dynamicRange: 'HLG',
      dolbyVision: { profile: 8, compatibility: 4 },
    });
  });
});

describe('tone mapping filters', () => {
  it('maps reference white to 1.0 and compresses highlights up to the signalled peak', () => {
    const filters = toneMapFilters({
      dynamicRange: 'PQ',
      matrix: 'bt2020nc',
      range: 'tv',
      peakNits: 1015,
    });
    expect(filters[0]).toBe(
      'zscale=tin=smpte2084:min=bt2020nc:pin=bt2020:rin=tv:t=linear:p=bt2020:npl=203',
    );
    expect(filters).toContain('tonemap=mobius:param=0.8:desat=0:peak=5.000');
    expect(filters.at(-1)).toBe('zscale=t=bt709:m=bt709:r=tv');
    const hlg = { dynamicRange: 'HLG', matrix: null, range: null, peakNits: null } as const;
    expect(toneMapFilters(hlg)[0]).toContain('tin=arib-std-b67');
    expect(toneMapFilters({ ...hlg, dynamicRange: 'SDR' })).toEqual([]);
    expect(toneMapFilters(undefined)).toEqual([]);
  });

  it('converts only SD matrices to BT.709', () => {
    const sdr = { dynamicRange: 'SDR', range: 'tv', peakNits: null } as const;
    expect(matrixConversion({ ...sdr, matrix: 'smpte170m' })).toBe(
      ':in_color_matrix=bt601:out_color_matrix=bt709',
    );
    expect(matrixConversion({ ...sdr, matrix: 'bt709' })).toBe('');
    expect(matrixConversion({ ...sdr, matrix: null })).toBe('');
  });
});

import { describe, expect, it } from 'vitest';
import {
  compareLibavcodec,
  describeVersion,
  isOutdated,
  parseVersion,
} from '../../functions/ffmpeg/version.js';

const DEBIAN = `ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers
built with gcc 12 (Debian 12.2.0-14+deb12u1)
libavutil      57. 28.100 / 57. 28.100
libavcodec     59. 37.100 / 59. 37.100
`;
const SNAPSHOT_2018 = `ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/
libavcodec     58. 42.100 / 58. 42.100
`;

describe('ffmpeg versions', () => {
  it('reads the release and libavcodec of release builds and git snapshots', () => {
    expect(parseVersion(DEBIAN)).toEqual({
      line: 'ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers',
      release: '5.1.9-0+deb12u1',
      libavcodec: [59, 37, 100],
    });
    expect(describeVersion(parseVersion(SNAPSHOT_2018))).toBe(
      'N-47683-g0e8eb07980-static (libavcodec 58.42.100)',
    );
  });

  it('calls anything below 4.4 (libavcodec 58.134) outdated, and unknown builds too', () => {
    expect(isOutdated(parseVersion(DEBIAN))).toBe(false);
    expect(isOutdated(parseVersion(SNAPSHOT_2018))).toBe(true);
    expect(isOutdated(parseVersion('ffmpeg version 4.4.2\nlibavcodec 58.134.100\n'))).toBe(false);
    expect(isOutdated(parseVersion('ffmpeg version 4.3.6\nlibavcodec 58. 91.100\n'))).toBe(true);
    expect(isOutdated(parseVersion('ffmpeg version weird\n'))).toBe(true);
  });

  it('orders by major, then minor, then micro', () => {
    expect(compareLibavcodec([59, 0, 0], [58, 200, 200])).toBeGreaterThan(0);
    expect(compareLibavcodec([58, 42, 100], [58, 134, 100])).toBeLessThan(0);
    expect(compareLibavcodec([60, 3, 100], [60, 3, 100])).toBe(0);
  });
});

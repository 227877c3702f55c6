import { beforeAll, describe, expect, it } from 'vitest';
import { resolveBinaries, type Binaries } from '../../functions/ffmpeg/binaries.js';
import {
  missingCapabilities,
  parseCodecList,
  parseFilterList,
  parseHwaccels,
  probeCapabilities,
  requireCapabilities,
  type Capabilities,
} from '../../functions/ffmpeg/capabilities.js';

let bin: Binaries;
let caps: Capabilities;

beforeAll(async () => {
  bin = await resolveBinaries();
  caps = await probeCapabilities(bin);
});

describe('ffmpeg capabilities', () => {
  it('lists what the pipeline itself uses, and caches the probe per binary', async () => {
    expect(
      missingCapabilities(caps, {
        encoders: ['libx264', 'aac', 'mjpeg'],
        decoders: ['h264', 'aac'],
        filters: ['scale', 'split', 'fps', 'loudnorm'],
      }),
    ).toEqual([]);
    expect(await probeCapabilities(bin)).toBe(caps);
    // Compiled-in methods are not devices: only those that open count as usable.
    for (const device of caps.hwDevices) expect(caps.hwaccels.has(device)).toBe(true);
  });

  it('fails a need with what is missing and how to get it', () => {
    expect(() =>
      requireCapabilities(
        caps,
        { encoders: ['libx264', 'no-such-encoder'], filters: ['no-such-filter'] },
        'preset "av1-test"',
        bin,
      ),
    ).toThrow(
      expect.objectContaining({
        code: 'CAPABILITY_MISSING',
        message: expect.stringMatching(
          new RegExp(
            '^preset "av1-test" needs encoder no-such-encoder, filter no-such-filter, which the ' +
              "ffmpeg at \\S+ \\(.*libavcodec.*\\) lacks; install Debian's ffmpeg " +
              '\\(apt-get install ffmpeg\\) or set FFMPEG_PATH',
          ),
        ),
      }),
    );
    expect(() => requireCapabilities(caps, { hwDevices: [] }, 'x', bin)).not.toThrow();
  });

  it('tells builds apart: the bundled 2018 ffmpeg has no SVT-AV1 encoder', async () => {
    const bundled = await resolveBinaries({ searchPath: '', allowOutdated: true });
    const old = await probeCapabilities(bundled);
    expect(old.encoders.has('libx264')).toBe(true);
    expect(old.encoders.has('libsvtav1')).toBe(false);
  });

  it('parses the list formats of ffmpeg 4 to 7', () => {
    expect([
      ...parseCodecList(
        'Encoders:\n V..... = Video\n ------\n V....D libx264   libx264 H.264\n A....D aac  AAC\n',
      ),
    ]).toEqual(['libx264', 'aac']);
    expect([
      ...parseFilterList(
        'Filters:\n  T.. = Timeline support\n | = Source or sink filter\n' +
          ' .SC zscale            V->V       Apply resizing\n' +
          ' ... nullsrc           |->V       Null video source\n',
      ),
    ]).toEqual(['zscale', 'nullsrc']);
    expect([...parseHwaccels('Hardware acceleration methods:\nvdpau\ncuda\n\n')]).toEqual([
      'vdpau',
      'cuda',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { BearerAuth, isLoopbackHost } from '../../pipeline/api/auth.js';
import { OutputAccess, playlistUris, resolveKey } from '../../pipeline/api/output-access.js';
import { parseRange } from '../../pipeline/api/routes/outputs.js';
import { toBatches } from '../../pipeline/cli/submit.js';
import type { JobRecord } from '../../pipeline/jobs/job.js';
import type { ObjectStore } from '../../pipeline/storage/port.js';

describe('byte ranges', () => {
  it('parses single ranges and clamps the end', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=0-3', 10)).toEqual({ start: 0, end: 3 });
    expect(parseRange('bytes=4-', 10)).toEqual({ start: 4, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange('bytes=5-100', 10)).toEqual({ start: 5, end: 9 });
    // Several ranges are answered with the whole object.
    expect(parseRange('bytes=0-1,3-4', 10)).toBeUndefined();
  });

  it('refuses ranges outside the object with 416', () => {
    expect(() => parseRange('bytes=10-', 10)).toThrow(
      expect.objectContaining({
        code: 'RANGE_NOT_SATISFIABLE',
        headers: { 'content-range': 'bytes */10' },
      }),
    );
    expect(() => parseRange('bytes=5-2', 10)).toThrow(/outside the object/);
  });
});

describe('HLS references', () => {
  const master =
    '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n' +
    '#EXT-X-MEDIA:TYPE=AUDIO,URI="audio/index.m3u8"\n';
  it('lists the URIs of a playlist', () => {
    expect(playlistUris(master)).toEqual(['720p/index.m3u8', 'audio/index.m3u8']);
    expect(playlistUris('#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4,\nseg-0.m4s\r\n\n')).toEqual(
      ['init.mp4', 'seg-0.m4s'],
    );
  });

  it('resolves URIs against the playlist, never outside the job prefix or to other hosts', () => {
    const prefix = 'clip.mp4/video/';
    expect(resolveKey('clip.mp4/video/hls/master.m3u8', '720p/index.m3u8', prefix)).toBe(
      'clip.mp4/video/hls/720p/index.m3u8',
    );
    expect(resolveKey('clip.mp4/video/hls/720p/index.m3u8', 'seg%201.ts?x=1', prefix)).toBe(
      'clip.mp4/video/hls/720p/seg 1.ts',
    );
    expect(
      resolveKey('clip.mp4/video/hls/master.m3u8', '../../../other/secret.ts', prefix),
    ).toBeUndefined();
    expect(
      resolveKey('clip.mp4/video/hls/master.m3u8', '%2E%2E/%2E%2E/%2E%2E/x', prefix),
    ).toBeUndefined();
    expect(
      resolveKey('clip.mp4/video/hls/master.m3u8', 'https://evil.example/x.ts', prefix),
    ).toBeUndefined();
    expect(resolveKey('clip.mp4/video/hls/master.m3u8', '/abs/x.ts', prefix)).toBeUndefined();
  });

  it(
    'allows a succeeded job its outputs, manifest and what its playlists reference, and ' +
      'nothing for other states',
    async () => {
      const objects: Record<string, string> = {
        'c/video/hls/master.m3u8': master,
        'c/video/hls/720p/index.m3u8':
          '#EXTM3U\n#EXTINF:4,\nseg-0.ts\n#EXTINF:4,\n../../../../escape.ts\n',
      };
      const store = {
        getBytes: async (_bucket: string, key: string) => Buffer.from(objects[key] ?? ''),
      } as unknown as ObjectStore;
      const job = {
        spec: { id: 'j1', outputBucket: 'out', outputPrefix: 'c/video/' },
        state: 'succeeded',
        updatedAt: 't',
        outputs: [{ key: 'c/video/hls/master.m3u8' }, { key: 'c/video/poster.jpg' }],
      } as unknown as JobRecord;
      const allowed = await new OutputAccess(store).allowed(job);
      expect([...allowed].sort()).toEqual([
        'c/video/hls/720p/index.m3u8',
        'c/video/hls/720p/seg-0.ts',
        'c/video/hls/audio/index.m3u8',
        'c/video/hls/master.m3u8',
        'c/video/manifest.json',
        'c/video/poster.jpg',
      ]);
      expect((await new OutputAccess(store).allowed({ ...job, state: 'failed' })).size).toBe(0);
    },
  );
});

describe('auth helpers', () => {
  const request = (authorization?: string) =>
    ({ headers: authorization ? { authorization } : {} }) as FastifyRequest;

  it('names the key a request presented without keeping the token', () => {
    const auth = new BearerAuth(['first-key', 'second-key']);
    const a = auth.principal(request('Bearer first-key'));
    const b = auth.principal(request('bearer second-key'));
    // Bare tokens are named by position; `name:token` entries by their name.
    expect(a).toEqual({ name: 'key1', admin: false });
    expect(b).toEqual({ name: 'key2', admin: false });
    const named = new BearerAuth(['alice:key-a', 'bob:key-b'], ['ops:key-o', 'bare-admin']);
    expect(named.principal(request('Bearer key-b'))).toEqual({ name: 'bob', admin: false });
    expect(named.principal(request('Bearer key-o'))).toEqual({ name: 'ops', admin: true });
    expect(named.principal(request('Bearer bare-admin'))).toEqual({ name: 'admin2', admin: true });
    expect(named.principal(request('Bearer alice:key-a'))).toBeUndefined();
    // A token whose part before ':' is no plain name is a bare token.
    expect(new BearerAuth(['x/y:z']).principal(request('Bearer x/y:z'))).toEqual({
      name: 'key1',
      admin: false,
    });
    expect(auth.principal(request('Bearer first-ke'))).toBeUndefined();
    expect(auth.principal(request('first-key'))).toBeUndefined();
    expect(auth.principal(request())).toBeUndefined();
    expect(new BearerAuth([]).enabled).toBe(false);
  });

  it('knows loopback names', () => {
    expect(
      ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'].every(
        isLoopbackHost,
      ),
    ).toBe(true);
    expect(
      ['0.0.0.0', '::', '10.0.0.1', 'example.com', 'localhost.example.com'].some(isLoopbackHost),
    ).toBe(false);
  });
});

describe('CLI submit targets', () => {
  it('sends objects in one batch and each prefix on its own', () => {
    expect(toBatches(['in/a.jpg', 's3://in/b c.jpg', 'in/photos/', 'other'], false)).toEqual([
      {
        items: [
          { bucket: 'in', key: 'a.jpg' },
          { bucket: 'in', key: 'b c.jpg' },
        ],
      },
      { bucket: 'in', prefix: 'photos/' },
      { bucket: 'other', prefix: '' },
    ]);
    expect(toBatches(['in/2024-'], true)).toEqual([{ bucket: 'in', prefix: '2024-' }]);
    expect(() => toBatches(['/key'], false)).toThrow(/Expected bucket\/key or bucket\/prefix\//);
  });
});

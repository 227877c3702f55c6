import { describe, expect, it } from 'vitest';
import { BUILTIN_PRESETS } from '../../pipeline/presets/builtin.js';
import { choosePresets } from '../../pipeline/presets/choose.js';
import type { Route } from '../../pipeline/presets/file-schema.js';
import { presetFingerprint } from '../../pipeline/presets/fingerprint.js';
import { globToRegExp, matchRoute } from '../../pipeline/presets/routes.js';
import { presetSchema } from '../../pipeline/presets/schema.js';

const object = (
  key: string,
  extra: { size?: number; contentType?: string; bucket?: string } = {},
) => ({
  bucket: extra.bucket ?? 'in',
  key,
  size: extra.size ?? 1000,
  contentType: extra.contentType,
});

describe('globToRegExp', () => {
  it('matches * within a segment, ** across segments, ? and {a,b}', () => {
    const g = (glob: string, key: string) => globToRegExp(glob).test(key);
    expect(g('products/**/*.jpg', 'products/a/b/c.jpg')).toBe(true);
    expect(g('products/**/*.jpg', 'products/c.jpg')).toBe(true);
    expect(g('products/**/*.jpg', 'products/c.jpeg')).toBe(false);
    expect(g('*.jpg', 'a/b.jpg')).toBe(false);
    expect(g('*.jpg', 'b.jpg')).toBe(true);
    expect(g('a?.png', 'ab.png')).toBe(true);
    expect(g('a?.png', 'a/.png')).toBe(false);
    expect(g('*.{jpg,png}', 'x.png')).toBe(true);
    expect(g('*.{jpg,png}', 'x.gif')).toBe(false);
    // Regex characters are literal.
    expect(g('a+b(1).jpg', 'a+b(1).jpg')).toBe(true);
    expect(g('a.jpg', 'abjpg')).toBe(false);
  });
});

describe('routes', () => {
  const routes: Route[] = [
    { prefix: 'avatars/', contentType: 'image/*', presets: ['image'] },
    { glob: 'clips/**', maxBytes: 500, presets: ['video-sd'] },
    { bucket: 'in', prefix: 'clips/', presets: ['video', 'video-sd'] },
  ];

  it('takes the first route whose every condition holds', () => {
    expect(matchRoute(routes, object('avatars/a.png', { contentType: 'image/png' }))?.index).toBe(
      0,
    );
    expect(matchRoute(routes, object('avatars/a.png', { contentType: 'video/mp4' }))).toBe(
      undefined,
    );
    expect(matchRoute(routes, object('avatars/a.png'))).toBe(undefined);
    expect(matchRoute(routes, object('clips/x/y.mp4', { size: 400 }))?.index).toBe(1);
    expect(matchRoute(routes, object('clips/x/y.mp4', { size: 501 }))?.index).toBe(2);
    expect(matchRoute(routes, object('clips/y.mp4', { size: 501, bucket: 'other' }))).toBe(
      undefined,
    );
  });

  it('chooses the named preset, else the route, else the media type without routes', () => {
    const catalog = { presets: BUILTIN_PRESETS, routes };
    const names = (choice: ReturnType<typeof choosePresets>) => choice.presets.map((p) => p.name);
    expect(names(choosePresets(catalog, object('clips/a.mp4', { size: 600 })))).toEqual([
      'video',
      'video-sd',
    ]);
    expect(names(choosePresets(catalog, object('clips/a.mp4'), 'audio'))).toEqual(['audio']);
    expect(choosePresets(catalog, object('misc/a.mp4'))).toEqual({
      presets: [],
      route: undefined,
      ignored: 'no-route',
    });
    const noRoutes = { presets: BUILTIN_PRESETS, routes: [] };
    expect(names(choosePresets(noRoutes, object('misc/a.jpg')))).toEqual(['image']);
    expect(() => choosePresets(noRoutes, object('a.jpg'), 'nope')).toThrow(
      expect.objectContaining({ code: 'PRESET_UNKNOWN' }),
    );
  });
});

describe('presetFingerprint', () => {
  const parse = (p: object) => presetSchema.parse({ name: 'v', kind: 'video', ...p });

  it('changes with the settings, not with defaults spelled out', () => {
    const base = presetFingerprint(parse({}));
    expect(presetFingerprint(parse({ crf: 23 }))).toBe(base);
    expect(presetFingerprint(parse({ crf: 26 }))).not.toBe(base);
    expect(presetFingerprint(parse({ ladder: [720, 240] }))).not.toBe(base);
    expect(presetFingerprint(parse({ ladder: [240, 720] }))).not.toBe(
      presetFingerprint(parse({ ladder: [720, 240] })),
    );
  });

  it('does not depend on the order keys were written in', () => {
    const a = { type: 'text', text: 'hi', color: '#ff0000', opacity: 0.5 };
    const b = { opacity: 0.5, color: '#ff0000', text: 'hi', type: 'text' };
    const image = (watermark: object) =>
      presetSchema.parse({ name: 'i', kind: 'image', watermark });
    expect(presetFingerprint(image(a))).toBe(presetFingerprint(image(b)));
  });
});

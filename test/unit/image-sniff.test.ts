import { describe, expect, it } from 'vitest';
import { sniffImage } from '../../functions/image/sniff.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const ftyp = (major: string, ...compatible: string[]): Uint8Array => {
  const brands = [major, '\0\0\0\0', ...compatible].join('');
  const box = Buffer.alloc(8 + brands.length);
  box.writeUInt32BE(box.length, 0);
  box.write('ftyp', 4, 'latin1');
  box.write(brands, 8, 'latin1');
  return box;
};

describe('sniffImage', () => {
  it.each([
    ['jpeg', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10)],
    ['png', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0)],
    ['gif', text('GIF89a\x01\x00')],
    ['gif', text('GIF87a\x01\x00')],
    ['webp', text('RIFF\x10\x00\x00\x00WEBPVP8 ')],
    ['tiff', bytes(0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0)],
    ['tiff', bytes(0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8)],
    ['avif', ftyp('avif', 'mif1', 'miaf')],
    ['avif', ftyp('mif1', 'avif')],
    ['heif', ftyp('heic', 'mif1')],
  ])('allows %s by content', (format, head) => {
    expect(sniffImage(head)).toEqual({ kind: 'allowed', format });
  });

  it.each([
    ['svg', text('<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['svg', text('\uFEFF  <?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg width="10">')],
    ['svgz', bytes(0x1f, 0x8b, 8, 0)],
    ['pdf', text('%PDF-1.7\n')],
    ['postscript', text('%!PS-Adobe-3.0')],
    ['vips', bytes(0x08, 0xf2, 0xa6, 0xb6, 0, 0)],
  ])('refuses %s', (format, head) => {
    expect(sniffImage(head)).toEqual({ kind: 'refused', format });
  });

  it.each([
    ['bmp', text('BM\x00\x00')],
    ['psd', text('8BPS\x00\x01')],
    ['jxl', bytes(0xff, 0x0a, 0, 0)],
    ['pnm', text('P6\n10 10\n255\n')],
    ['iso-bmff:isom', ftyp('isom', 'mp41')],
  ])('calls %s unsupported', (format, head) => {
    expect(sniffImage(head)).toEqual({ kind: 'unsupported', format });
  });

  it('says empty for zero bytes and unknown for anything else', () => {
    expect(sniffImage(new Uint8Array())).toEqual({ kind: 'empty' });
    expect(sniffImage(text('hello, world'))).toEqual({ kind: 'unknown' });
    expect(sniffImage(text('<html><body>hi</body></html>'))).toEqual({ kind: 'unknown' });
    expect(sniffImage(bytes(0xff, 0xd8))).toEqual({ kind: 'unknown' });
  });
});

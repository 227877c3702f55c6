/** Formats a source may be in; anything else never reaches a decoder. */
export type AllowedFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif' | 'heif';

/** What the first bytes say a file is, judged by content and never by its name. */
export type SniffResult =
  | { kind: 'allowed'; format: AllowedFormat }
  /**
   * Formats that reference other files or run interpreters (SVG, PDF, PostScript, libvips native).
   */
  | { kind: 'refused'; format: string }
  /** Real image formats outside the allow-list. */
  | { kind: 'unsupported'; format: string }
  | { kind: 'empty' }
  | { kind: 'unknown' };

/** Bytes of the file `sniffImage` wants to see; fewer is fine for short files. */
export const SNIFF_BYTES = 512;

const ascii = (bytes: Uint8Array, start: number, end: number): string =>
  Buffer.from(bytes.subarray(start, end)).toString('latin1');
const startsWith = (bytes: Uint8Array, magic: readonly number[], at = 0): boolean =>
  magic.every((b, i) => bytes[at + i] === b);

// ISO-BMFF brands (the `ftyp` box) that mean an AVIF or a HEIF/HEIC still image or sequence.
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set([
  'heic',
  'heix',
  'hevc',
  'hevx',
  'heim',
  'heis',
  'hevm',
  'hevs',
  'mif1',
  'msf1',
]);

/**
 * Classifies a file from its first bytes (see {@link SNIFF_BYTES}). libvips would pick a loader by
 * sniffing too, but it knows loaders we refuse; deciding here first means a renamed SVG or PDF
 * is refused by what it is, whatever it is called.
 */
export function sniffImage(head: Uint8Array): SniffResult {
  if (head.length === 0) return { kind: 'empty' };
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { kind: 'allowed', format: 'jpeg' };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { kind: 'allowed', format: 'png' };
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a')
    return { kind: 'allowed', format: 'gif' };
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP')
    return { kind: 'allowed', format: 'webp' };
  // Classic TIFF (II*\0, MM\0*) and BigTIFF (II+\0, MM\0+).
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a]))
    return { kind: 'allowed', format: 'tiff' };
  if (startsWith(head, [0x49, 0x49, 0x2b, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2b]))
    return { kind: 'allowed', format: 'tiff' };
  if (ascii(head, 4, 8) === 'ftyp') return sniffIsoBmff(head);

  if (startsWith(head, [0x25, 0x50, 0x44, 0x46])) return { kind: 'refused', format: 'pdf' };
  if (ascii(head, 0, 2) === '%!' || startsWith(head, [0xc5, 0xd0, 0xd3, 0xc6]))
    return { kind: 'refused', format: 'postscript' };
  if (startsWith(head, [0x08, 0xf2, 0xa6, 0xb6]) || startsWith(head, [0xb6, 0xa6, 0xf2, 0x08]))
    return { kind: 'refused', format: 'vips' };
  // librsvg reads gzip-compressed SVG (.svgz) transparently, so gzip is treated as SVG.
  if (startsWith(head, [0x1f, 0x8b])) return { kind: 'refused', format: 'svgz' };
  if (looksLikeSvg(head)) return { kind: 'refused', format: 'svg' };

  if (ascii(head, 0, 2) === 'BM') return { kind: 'unsupported', format: 'bmp' };
  if (ascii(head, 0, 4) === '8BPS') return { kind: 'unsupported', format: 'psd' };
  if (startsWith(head, [0x00, 0x00, 0x01, 0x00])) return { kind: 'unsupported', format: 'ico' };
  if (
    startsWith(head, [0xff, 0x0a]) ||
    startsWith(head, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20])
  )
    return { kind: 'unsupported', format: 'jxl' };
  if (
    startsWith(head, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]) ||
    startsWith(head, [0xff, 0x4f, 0xff, 0x51])
  )
    return { kind: 'unsupported', format: 'jp2' };
  if (ascii(head, 0, 10) === '#?RADIANCE' || /^P[1-7Ff]\s/.test(ascii(head, 0, 3)))
    return { kind: 'unsupported', format: 'pnm' };
  return { kind: 'unknown' };
}

function sniffIsoBmff(head: Uint8Array): SniffResult {
  const boxSize = Buffer.from(head.subarray(0, 4)).readUInt32BE(0);
  const end = Math.min(head.length, Math.max(boxSize, 16));
  // Major brand first, then the compatible brands after the minor version.
  const brands = [ascii(head, 8, 12)];
  for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(head, at, at + 4));
  if (brands.some((b) => AVIF_BRANDS.has(b))) return { kind: 'allowed', format: 'avif' };
  if (brands.some((b) => HEIF_BRANDS.has(b))) return { kind: 'allowed', format: 'heif' };
  // MP4, MOV, 3GP and friends share the box layout; they are video, not images.
  return { kind: 'unsupported', format: `iso-bmff:${brands[0]?.trim() ?? ''}` };
}

function looksLikeSvg(head: Uint8Array): boolean {
  // Text that opens (after a BOM, whitespace, an XML declaration, comments or a doctype) with an
  // `<svg` element.
  const text = Buffer.from(head)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (!text.startsWith('<')) return false;
  return text.includes('<svg');
}

import fs from 'node:fs/promises';

/**
 * Looks at the first bytes of a source before any ffmpeg tool opens it.
 *
 * Why: ffmpeg picks a demuxer from the content, whatever the file is called. A file named `.avi`
 * that holds an HLS playlist gets the HLS demuxer, which then opens the "segments" it lists, such
 * as /etc/passwd (the 2017 SSRF/file-read exploit). `-protocol_whitelist file` does not help, since
 * `file` is exactly what the attack uses. So playlists, concat lists and manifests are refused
 * here, on bytes, before ffprobe runs; the probe's format allow-list is the second line.
 */
export type SniffVerdict =
  | { kind: 'binary' }
  | { kind: 'reference-list'; what: string }
  | { kind: 'text' };

/** How many leading bytes are inspected. */
export const SNIFF_BYTES = 4096;

const REFERENCE_MARKERS: ReadonlyArray<readonly [RegExp, string]> = [
  // Anywhere in the head, not only at offset 0: cheap insurance against a playlist behind junk
  // bytes.
  [/#EXTM3U|#EXT-X-|#EXTINF/i, 'an HLS/M3U playlist'],
  [/ffconcat\s+version/i, 'an ffmpeg concat list'],
];

const TEXT_START_MARKERS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /^<\?xml|^<mpd[\s>]|^<smil|^<compositionplaylist|^<svg|^<!doctype/i,
    'an XML manifest or document',
  ],
  [/^\[playlist\]/i, 'a PLS playlist'],
  [/^v=0\r?\n/, 'an SDP session description'],
  [/^file\s+['"]?[^\s]/i, 'an ffmpeg concat list'],
];

/** Classifies the head of a file. Pure, for tests; see {@link sniffFile}. */
export function sniffBytes(head: Uint8Array): SniffVerdict {
  const latin = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1');
  for (const [pattern, what] of REFERENCE_MARKERS) {
    if (pattern.test(latin)) return { kind: 'reference-list', what };
  }
  if (!looksLikeText(head)) return { kind: 'binary' };
  const trimmed = latin.replace(/^\u00ef\u00bb\u00bf/, '').trimStart();
  for (const [pattern, what] of TEXT_START_MARKERS) {
    if (pattern.test(trimmed)) return { kind: 'reference-list', what };
  }
  return { kind: 'text' };
}

/**
 * True when the bytes are plausibly text: no NUL and valid UTF-8. Every container we accept has
 * NULs or invalid UTF-8 (sync bytes like 0xFF 0xFB) in its first few hundred bytes.
 */
export function looksLikeText(head: Uint8Array): boolean {
  if (head.length < 16) return false;
  if (head.includes(0)) return false;
  // A multi-byte character may be cut at the end of the window; drop up to 3 trailing bytes.
  for (let cut = 0; cut <= 3 && cut < head.length; cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - cut));
      return true;
    } catch {
      /* try a shorter window */
    }
  }
  return false;
}

/** Reads the head of a file and classifies it. */
export async function sniffFile(file: string): Promise<SniffVerdict> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return sniffBytes(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

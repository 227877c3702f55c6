import fs from 'node:fs/promises';
import { MediaflowError } from '../errors.js';

/**
 * The family name inside a TrueType/OpenType file (its `name` table, name id 1). Pango finds a
 * font by family, so rendering with a given file means asking for the family that file declares;
 * any other name silently falls back to a host font. Refuses files that are not fonts.
 */
export async function fontFamily(file: string): Promise<string> {
  const data = await fs.readFile(file);
  const family = readFamily(data);
  if (!family)
    throw new MediaflowError(
      'MEDIA_UNSUPPORTED',
      'The watermark font is not a TrueType or OpenType font with a family name',
    );
  return family;
}

/** Pure: the family name of a font file's bytes, or undefined. */
export function readFamily(data: Buffer): string | undefined {
  if (data.length < 12) return undefined;
  const tag = data.readUInt32BE(0);
  // TrueType 1.0, 'true', or 'OTTO' (CFF OpenType).
  if (tag !== 0x00010000 && tag !== 0x74727565 && tag !== 0x4f54544f) return undefined;
  const tables = data.readUInt16BE(4);
  for (let i = 0; i < tables; i++) {
    const entry = 12 + i * 16;
    if (entry + 16 > data.length) return undefined;
    if (data.toString('latin1', entry, entry + 4) !== 'name') continue;
    return nameTableFamily(data, data.readUInt32BE(entry + 8));
  }
  return undefined;
}

function nameTableFamily(data: Buffer, table: number): string | undefined {
  if (table + 6 > data.length) return undefined;
  const count = data.readUInt16BE(table + 2);
  const strings = table + data.readUInt16BE(table + 4);
  let fallback: string | undefined;
  for (let i = 0; i < count; i++) {
    const record = table + 6 + i * 12;
    if (record + 12 > data.length) return fallback;
    const platform = data.readUInt16BE(record);
    const nameId = data.readUInt16BE(record + 6);
    const length = data.readUInt16BE(record + 8);
    const start = strings + data.readUInt16BE(record + 10);
    if (nameId !== 1 || start + length > data.length) continue;
    const raw = data.subarray(start, start + length);
    // Windows and Unicode platforms store UTF-16BE; Macintosh stores single-byte Roman.
    if (platform === 3 || platform === 0) return utf16be(raw).trim() || fallback;
    if (platform === 1) fallback ??= raw.toString('latin1').trim() || undefined;
  }
  return fallback;
}

function utf16be(raw: Buffer): string {
  const swapped = Buffer.from(raw);
  swapped.swap16();
  return swapped.toString('utf16le');
}

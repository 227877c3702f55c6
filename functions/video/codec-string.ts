import fs from 'node:fs/promises';

/**
 * RFC 6381 codec strings for HLS `CODECS`, read from the file actually written: `avc1.PPCCLL` is
 * profile, constraint flags and level from the avcC box (x264 picks the level per resolution).
 */

/** Formats the three avcC bytes as `avc1.PPCCLL`. Pure. */
export function avcCodecString(profile: number, constraints: number, level: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0').toUpperCase();
  return `avc1.${hex(profile)}${hex(constraints)}${hex(level)}`;
}

/** Finds the avcC record in an MP4 `moov` box's bytes. Pure; null when absent. */
export function avcCodecStringFromMoov(moov: Uint8Array): string | null {
  const bytes = Buffer.from(moov.buffer, moov.byteOffset, moov.byteLength);
  let at = bytes.indexOf('avcC', 0, 'latin1');
  while (at >= 0) {
    // avcC payload: configurationVersion (always 1), AVCProfileIndication, profile_compatibility,
    // AVCLevelIndication.
    if (at + 8 <= bytes.length && bytes[at + 4] === 1)
      return avcCodecString(bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    at = bytes.indexOf('avcC', at + 4, 'latin1');
  }
  return null;
}

/** Reads the `moov` box of an MP4 (walking top-level boxes) and returns its avc1 codec string. */
export async function readAvcCodecString(file: string): Promise<string | null> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const header = Buffer.alloc(16);
    let offset = 0;
    while (offset + 8 <= size) {
      await handle.read(header, 0, 16, offset);
      let boxSize = header.readUInt32BE(0);
      const type = header.toString('latin1', 4, 8);
      let headerSize = 8;
      if (boxSize === 1) {
        boxSize = Number(header.readBigUInt64BE(8));
        headerSize = 16;
      } else if (boxSize === 0) {
        boxSize = size - offset;
      }
      if (boxSize < headerSize) return null;
      if (type === 'moov') {
        const length = Math.min(boxSize - headerSize, 64 * 1024 * 1024);
        const moov = Buffer.alloc(length);
        await handle.read(moov, 0, length, offset + headerSize);
        return avcCodecStringFromMoov(moov);
      }
      offset += boxSize;
    }
    return null;
  } finally {
    await handle.close();
  }
}

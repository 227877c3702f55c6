import fs from 'node:fs/promises';

/**
 * RFC 6381 codec strings for HLS `CODECS` and DASH `codecs`, read from the file actually written
 * (the encoders pick profile and level per resolution): `avc1.PPCCLL` from the avcC box,
 * `hvc1.…` from hvcC and `av01.…` from av1C (ISO/IEC 14496-15 annex E, AV1-ISOBMFF).
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

/**
 * `hvc1.[A-C]P.C.TL.B…` from an hvcC record's first 13 bytes (after its box type): profile space
 * and idc, the 32 compatibility flags in reverse bit order, tier and level, then the constraint
 * bytes with trailing zero bytes left out. Pure.
 */
export function hevcCodecString(record: Uint8Array): string {
  const space = ['', 'A', 'B', 'C'][record[1]! >> 6]!;
  const tier = record[1]! & 0x20 ? 'H' : 'L';
  const profile = record[1]! & 0x1f;
  let flags = 0;
  for (let i = 0; i < 4; i++) flags = flags * 256 + record[2 + i]!;
  let reversed = 0;
  for (let bit = 0; bit < 32; bit++) if (flags & (2 ** bit)) reversed += 2 ** (31 - bit);
  const constraints = Array.from(record.subarray(6, 12));
  while (constraints.length && constraints[constraints.length - 1] === 0) constraints.pop();
  return [
    `hvc1.${space}${profile}`,
    reversed.toString(16).toUpperCase(),
    `${tier}${record[12]!}`,
    ...constraints.map((b) => b.toString(16).toUpperCase()),
  ].join('.');
}

/** `av01.P.LLT.DD` from an av1C record's first 3 bytes: profile, level, tier, bit depth. Pure. */
export function av1CodecString(record: Uint8Array): string {
  const profile = record[1]! >> 5;
  const level = record[1]! & 0x1f;
  const tier = record[2]! & 0x80 ? 'H' : 'M';
  const depth = record[2]! & 0x40 ? (profile === 2 && record[2]! & 0x20 ? 12 : 10) : 8;
  const two = (n: number) => String(n).padStart(2, '0');
  return `av01.${profile}.${two(level)}${tier}.${two(depth)}`;
}

/** The video codec string of an MP4 `moov` box's bytes: avcC, hvcC or av1C. Pure; null if none. */
export function videoCodecStringFromMoov(moov: Uint8Array): string | null {
  const avc = avcCodecStringFromMoov(moov);
  if (avc) return avc;
  const bytes = Buffer.from(moov.buffer, moov.byteOffset, moov.byteLength);
  const hvcC = bytes.indexOf('hvcC', 0, 'latin1');
  if (hvcC >= 0 && hvcC + 17 <= bytes.length && bytes[hvcC + 4] === 1)
    return hevcCodecString(bytes.subarray(hvcC + 4, hvcC + 17));
  const av1C = bytes.indexOf('av1C', 0, 'latin1');
  if (av1C >= 0 && av1C + 7 <= bytes.length && bytes[av1C + 4] === 0x81)
    return av1CodecString(bytes.subarray(av1C + 4, av1C + 7));
  return null;
}

/** Reads the `moov` box of an MP4 (walking top-level boxes) and returns its video codec string. */
export async function readVideoCodecString(file: string): Promise<string | null> {
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
        return videoCodecStringFromMoov(moov);
      }
      offset += boxSize;
    }
    return null;
  } finally {
    await handle.close();
  }
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { MediaflowError } from '../errors.js';
import { videoCodecStringFromMoov } from './codec-string.js';

/**
 * Reads the facts playlists need from fragmented MP4 (CMAF) files as written: the track's
 * timescale and codec string from the init segment, and per media segment its decode time,
 * duration, whether it starts with a sync sample, and where that first sample's bytes lie (for
 * I-frame playlists). Measured from the boxes, never from what the encoder was asked for.
 */

export interface Box {
  type: string;
  /** Offset of the box header in the buffer. */
  start: number;
  /** Offset of the payload (after the header). */
  body: number;
  end: number;
}

/** The boxes directly inside `bytes[from, to)`. Pure; stops at a malformed size. */
export function childBoxes(bytes: Buffer, from = 0, to = bytes.length): Box[] {
  const boxes: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    let size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      if (at + 16 > to) break;
      size = Number(bytes.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < header || at + size > to) break;
    boxes.push({ type, start: at, body: at + header, end: at + size });
    at += size;
  }
  return boxes;
}

/** The first box on a path of types (`['moov', 'trak', 'mdia']`). Pure. */
export function findBox(bytes: Buffer, path: readonly string[], parent?: Box): Box | undefined {
  let scope = parent;
  for (const type of path) {
    const next = childBoxes(bytes, scope?.body ?? 0, scope?.end ?? bytes.length).find(
      (b) => b.type === type,
    );
    if (!next) return undefined;
    scope = next;
  }
  return scope;
}

export interface InitFacts {
  handler: 'vide' | 'soun' | 'text' | string;
  /** Ticks per second of the track's media timeline (mdhd). */
  timescale: number;
  /** RFC 6381 codec string read from the sample entry, or null when unknown. */
  codec: string | null;
  /** trex defaults, used when a fragment's boxes leave them out. */
  defaultSampleDuration: number;
  defaultSampleFlags: number;
}

/** Parses an init segment (ftyp + moov with one track). Pure. */
export function parseInit(bytes: Buffer): InitFacts {
  const trak = findBox(bytes, ['moov', 'trak']);
  const mdhd = trak && findBox(bytes, ['mdia', 'mdhd'], trak);
  const hdlr = trak && findBox(bytes, ['mdia', 'hdlr'], trak);
  if (!trak || !mdhd || !hdlr)
    throw new MediaflowError('FFMPEG_FAILED', 'Not an init segment: no moov/trak/mdia.');
  const version = bytes[mdhd.body]!;
  const timescale = bytes.readUInt32BE(mdhd.body + (version === 1 ? 20 : 12));
  const handler = bytes.toString('latin1', hdlr.body + 8, hdlr.body + 12);
  const trex = findBox(bytes, ['moov', 'mvex', 'trex']);
  const moov = findBox(bytes, ['moov'])!;
  const moovBytes = bytes.subarray(moov.body, moov.end);
  return {
    handler,
    timescale,
    codec: videoCodecStringFromMoov(moovBytes) ?? aacCodecString(moovBytes),
    defaultSampleDuration: trex ? bytes.readUInt32BE(trex.body + 12) : 0,
    defaultSampleFlags: trex ? bytes.readUInt32BE(trex.body + 20) : 0,
  };
}

/**
 * `mp4a.OO.A` from the esds box: the object type indication and the AudioSpecificConfig's audio
 * object type (2 = AAC-LC, 5 = HE-AAC). Pure; null when there is no esds.
 */
export function aacCodecString(moov: Buffer): string | null {
  const at = moov.indexOf('esds', 0, 'latin1');
  if (at < 0) return null;
  let p = at + 8; // type + version/flags
  const descriptor = (): { tag: number; length: number } => {
    const tag = moov[p++]!;
    let length = 0;
    for (let i = 0; i < 4; i++) {
      const b = moov[p++]!;
      length = (length << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    return { tag, length };
  };
  if (descriptor().tag !== 0x03) return null;
  const flags = moov[p + 2]!;
  p += 3;
  if (flags & 0x80) p += 2;
  if (flags & 0x40) p += 1 + moov[p]!;
  if (flags & 0x20) p += 2;
  if (descriptor().tag !== 0x04) return null;
  const objectType = moov[p]!;
  p += 13;
  if (descriptor().tag !== 0x05) return `mp4a.${objectType.toString(16)}`;
  let aot = moov[p]! >> 3;
  if (aot === 31) aot = 32 + (((moov[p]! & 0x07) << 3) | (moov[p + 1]! >> 5));
  return `mp4a.${objectType.toString(16)}.${aot}`;
}

export interface Fragment {
  /** Offset of the moof box in the segment file. */
  moofOffset: number;
  /** tfdt: decode time of the first sample, in timescale ticks. */
  decodeTime: number;
  /** Sum of the sample durations, ticks. */
  duration: number;
  samples: number;
  /** Whether the first sample is a sync sample (an IDR for video). */
  startsWithSync: boolean;
  /** Byte offset and size of the first sample's data. */
  firstSample: { offset: number; size: number };
}

const TFHD_BASE_DATA_OFFSET = 0x01;
const TFHD_SAMPLE_DESCRIPTION = 0x02;
const TFHD_DEFAULT_DURATION = 0x08;
const TFHD_DEFAULT_SIZE = 0x10;
const TFHD_DEFAULT_FLAGS = 0x20;
const TRUN_DATA_OFFSET = 0x01;
const TRUN_FIRST_FLAGS = 0x04;
const TRUN_DURATION = 0x100;
const TRUN_SIZE = 0x200;
const TRUN_FLAGS = 0x400;
const TRUN_CTO = 0x800;
const SAMPLE_IS_NON_SYNC = 0x10000;

/** Reads big-endian fields one after another from `at`. */
function reader(bytes: Buffer, at: number) {
  let p = at;
  const take = (n: number) => {
    p += n;
    return p - n;
  };
  return {
    u32: () => bytes.readUInt32BE(take(4)),
    i32: () => bytes.readInt32BE(take(4)),
    u64: () => Number(bytes.readBigUInt64BE(take(8))),
  };
}

/** Every moof of a media segment (single-track fragments, as ffmpeg writes CMAF). Pure. */
export function parseFragments(bytes: Buffer, init: InitFacts): Fragment[] {
  const top = childBoxes(bytes);
  const fragments: Fragment[] = [];
  top.forEach((moof, i) => {
    if (moof.type !== 'moof') return;
    const traf = findBox(bytes, ['traf'], moof);
    const tfhd = traf && findBox(bytes, ['tfhd'], traf);
    const trun = traf && findBox(bytes, ['trun'], traf);
    if (!traf || !tfhd || !trun)
      throw new MediaflowError('FFMPEG_FAILED', 'A moof without traf/tfhd/trun.');
    const tfdt = findBox(bytes, ['tfdt'], traf);
    const hFlags = bytes.readUInt32BE(tfhd.body) & 0xffffff;
    const h = reader(bytes, tfhd.body + 8);
    const base = hFlags & TFHD_BASE_DATA_OFFSET ? h.u64() : moof.start;
    if (hFlags & TFHD_SAMPLE_DESCRIPTION) h.u32();
    const defaultDuration = hFlags & TFHD_DEFAULT_DURATION ? h.u32() : init.defaultSampleDuration;
    const defaultSize = hFlags & TFHD_DEFAULT_SIZE ? h.u32() : 0;
    const defaultFlags = hFlags & TFHD_DEFAULT_FLAGS ? h.u32() : init.defaultSampleFlags;

    const rFlags = bytes.readUInt32BE(trun.body) & 0xffffff;
    const count = bytes.readUInt32BE(trun.body + 4);
    const r = reader(bytes, trun.body + 8);
    const mdat = top.slice(i + 1).find((b) => b.type === 'mdat');
    let dataStart = mdat ? mdat.body : moof.end + 8;
    if (rFlags & TRUN_DATA_OFFSET) dataStart = base + r.i32();
    const firstFlags = rFlags & TRUN_FIRST_FLAGS ? r.u32() : null;
    let duration = 0;
    let firstSize = defaultSize;
    let sampleFlags0 = defaultFlags;
    for (let s = 0; s < count; s++) {
      const d = rFlags & TRUN_DURATION ? r.u32() : defaultDuration;
      const size = rFlags & TRUN_SIZE ? r.u32() : defaultSize;
      const flags = rFlags & TRUN_FLAGS ? r.u32() : defaultFlags;
      if (rFlags & TRUN_CTO) r.u32();
      duration += d;
      if (s === 0) {
        firstSize = size;
        sampleFlags0 = firstFlags ?? flags;
      }
    }
    let decodeTime = 0;
    if (tfdt) {
      decodeTime =
        bytes[tfdt.body] === 1
          ? Number(bytes.readBigUInt64BE(tfdt.body + 4))
          : bytes.readUInt32BE(tfdt.body + 4);
    }
    fragments.push({
      moofOffset: moof.start,
      decodeTime,
      duration,
      samples: count,
      startsWithSync: !(sampleFlags0 & SAMPLE_IS_NON_SYNC),
      firstSample: { offset: dataStart, size: firstSize },
    });
  });
  return fragments;
}

/** What one CMAF media segment holds, as playlists and the MPD describe it. */
export interface SegmentFacts {
  /** Decode time of its first sample and its length, in timescale ticks. */
  decodeTime: number;
  duration: number;
  bytes: number;
  startsWithSync: boolean;
  /** The bytes an I-frame playlist names: from the first moof through the first sample. */
  iframe: { offset: number; length: number };
}

/** Reads an init segment's facts from a file. */
export async function readInit(file: string): Promise<InitFacts> {
  return parseInit(await fs.readFile(file));
}

/** Reads one media segment's facts from a file. */
export async function readSegment(file: string, init: InitFacts): Promise<SegmentFacts> {
  const bytes = await fs.readFile(file);
  const fragments = parseFragments(bytes, init);
  const first = fragments[0];
  if (!first) throw new MediaflowError('FFMPEG_FAILED', `No moof in ${path.basename(file)}.`);
  return {
    decodeTime: first.decodeTime,
    duration: fragments.reduce((sum, f) => sum + f.duration, 0),
    bytes: bytes.length,
    startsWithSync: first.startsWithSync,
    iframe: {
      offset: first.moofOffset,
      length: first.firstSample.offset + first.firstSample.size - first.moofOffset,
    },
  };
}

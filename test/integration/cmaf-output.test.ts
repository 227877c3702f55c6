import fs from 'node:fs';
import path from 'node:path';
import * as HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Binaries } from '../../functions/ffmpeg/binaries.js';
import type { App } from '../../pipeline/app.js';
import type { JobRecord } from '../../pipeline/jobs/job.js';
import { downloadOutputs, startEmbeddedApp, submitAndWait } from '../helpers/embedded-app.js';
import { appleRuleViolations, readHlsTree } from '../helpers/hls-rules.js';
import { decodeErrors, ffprobeJson, makeSource, testTools } from '../helpers/video-fixtures.js';

/**
 * The default packaging end to end: a 640x360, 25 fps, 6 s source with audio, split in 2 s pieces,
 * through the real pipeline (embedded S3 server, in-process runner) with the `video-sd` preset
 * (360p and 240p). The HLS tree must pass the strict parser and Apple's rules, both the master and
 * the MPD must decode to the end in ffmpeg, and every segment must start with an IDR picture.
 */
const FPS = 25;
const SECONDS = 6;

let app: App & { dataDir: string };
let bin: Binaries;
let job: JobRecord;
let out: string;

beforeAll(async () => {
  bin = (await testTools()).binaries;
  app = await startEmbeddedApp({}, { MEDIAFLOW_SEGMENT_SECONDS: '2' });
  const source = makeSource(bin, path.join(app.dataDir, 'source.mp4'), {
    width: 640,
    height: 360,
    fps: FPS,
    seconds: SECONDS,
    gop: 2 * FPS,
    audio: true,
  });
  job = await submitAndWait(app, 'cmaf/source.mp4', fs.readFileSync(source), 'video-sd');
  out = path.join(app.dataDir, 'out');
  await downloadOutputs(app, job, out);
});

afterAll(async () => {
  await app?.close();
});

interface Stream {
  codec_type: string;
  nb_read_frames?: string;
  width?: number;
}

/**
 * Every stream ffprobe finds behind a manifest, each decoded to the end on its own: ffmpeg's DASH
 * demuxer ends all streams at the first one's end when they are read together (the video lost its
 * last 3 frames behind a 20 ms longer audio), while players fetch each AdaptationSet on its own.
 */
function decodedStreams(file: string): Stream[] {
  const { streams } = ffprobeJson<{ streams: Stream[] }>(bin, ['-show_streams', file]);
  return streams.map((s, i) => {
    const [decoded] = ffprobeJson<{ streams: Stream[] }>(bin, [
      '-count_frames',
      '-show_streams',
      '-select_streams',
      String(i),
      file,
    ]).streams;
    return { ...s, nb_read_frames: decoded?.nb_read_frames };
  });
}

describe('CMAF packaging (the default)', () => {
  it('succeeds and writes the HLS master, the MPD, MP4s and CMAF renditions', () => {
    expect(job.state, `${job.error?.code} ${job.error?.message}`).toBe('succeeded');
    const roles = new Set(job.outputs.map((o) => o.role));
    for (const role of ['hls-master', 'dash-manifest', 'mp4', 'cmaf-init', 'cmaf-segment'])
      expect(roles).toContain(role);
    expect(fs.existsSync(path.join(out, 'hls/master.m3u8'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'hls/manifest.mpd'))).toBe(true);
  });

  it("passes the strict parser and Apple's rules", () => {
    expect(appleRuleViolations(bin, path.join(out, 'hls/master.m3u8'), { audio: true })).toEqual(
      [],
    );
    const { master, media } = readHlsTree(path.join(out, 'hls/master.m3u8'));
    const variants = master.variants.filter((v) => !v.isIFrameOnly);
    expect(variants.map((v) => v.resolution)).toEqual([
      { width: 426, height: 240 },
      { width: 640, height: 360 },
    ]);
    expect(variants.every((v) => v.frameRate === FPS)).toBe(true);
    // EXT-X-VERSION is what the tags need: 6 for EXT-X-MAP, 5 for an I-frame playlist with it.
    for (const [uri, playlist] of media)
      expect(playlist.version, uri).toBe(uri.endsWith('iframes.m3u8') ? 5 : 6);
    expect(variants[0]!.audio.map((a) => ({ name: a.name, isDefault: a.isDefault }))).toEqual([
      { name: 'Audio', isDefault: true },
    ]);
  });

  it('decodes the master and the MPD to the end in ffmpeg, every rendition', () => {
    for (const manifest of ['hls/master.m3u8', 'hls/manifest.mpd']) {
      const streams = decodedStreams(path.join(out, manifest));
      const video = streams.filter((s) => s.codec_type === 'video');
      const audio = streams.filter((s) => s.codec_type === 'audio');
      expect(video.map((s) => s.width).sort(), manifest).toEqual([426, 640]);
      for (const s of video) expect(Number(s.nb_read_frames), manifest).toBe(FPS * SECONDS);
      expect(audio.length, manifest).toBeGreaterThan(0);
      expect(decodeErrors(bin, path.join(out, manifest)), manifest).toBe('');
      // 6 s of AAC at 48 kHz is 282 frames of 1024 samples (one more for the encoder's priming).
      for (const s of audio) expect(Number(s.nb_read_frames), manifest).toBeGreaterThanOrEqual(281);
    }
  });

  it('starts every segment with an IDR picture, which the I-frame playlists address', () => {
    const { master } = readHlsTree(path.join(out, 'hls/master.m3u8'));
    const iframes = master.variants.filter((v) => v.isIFrameOnly);
    expect(iframes).toHaveLength(2);
    for (const v of iframes) {
      const file = path.join(out, 'hls', v.uri);
      const playlist = HLS.parse(fs.readFileSync(file, 'utf8')) as HLS.types.MediaPlaylist;
      expect(playlist.segments.length).toBe(2);
      for (const s of playlist.segments) {
        const bytes = fs.readFileSync(path.join(path.dirname(file), s.uri));
        const range = bytes.subarray(s.byterange.offset, s.byterange.offset + s.byterange.length);
        expect(nalTypesOfFirstSample(range), `${v.uri} ${s.uri}`).toContain(5);
      }
    }
  });
});

/**
 * The NAL unit types (H.264, 4-byte lengths) of the first sample in a moof+mdat byte range: the
 * range must end exactly where that sample ends. Type 5 is an IDR slice.
 */
function nalTypesOfFirstSample(range: Buffer): number[] {
  const moofSize = range.readUInt32BE(0);
  expect(range.toString('latin1', 4, 8)).toBe('moof');
  expect(range.toString('latin1', moofSize + 4, moofSize + 8)).toBe('mdat');
  const types: number[] = [];
  let at = moofSize + 8;
  while (at + 4 < range.length) {
    const length = range.readUInt32BE(at);
    types.push(range[at + 4]! & 0x1f);
    at += 4 + length;
  }
  expect(at).toBe(range.length);
  return types;
}

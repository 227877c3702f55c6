import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Binaries } from '../../functions/ffmpeg/binaries.js';
import type { App } from '../../pipeline/app.js';
import type { JobRecord } from '../../pipeline/jobs/job.js';
import { startEmbeddedApp, submitAndWait } from '../helpers/embedded-app.js';
import { ffmpeg, ffprobeJson, testTools } from '../helpers/video-fixtures.js';

/**
 * Valid inputs that were refused or came out wrong (issue 14), made with ffmpeg from a real clip
 * of the corpus (H.264 + AAC, 560x320, 30 fps, 5.5 s) and run through the whole embedded
 * pipeline: raw video elementary streams (MPEG-2 as `.mpg`, H.264 Annex B, HEVC, MPEG-4 Part 2),
 * an ASF/WMV whose nominal rate is its 1 ms time base (`r_frame_rate=1000/1`,
 * `avg_frame_rate=0/0`), and a 0.8 s DVD-menu-style MPEG-2 program stream whose MP2 audio stops
 * before the video. Every output must last as long as its source to the frame, with its audio
 * starting with the video and lasting as long.
 *
 * Source facts come from ffprobe directly (packets counted and timed), not the code under test.
 */
const CLIP = path.resolve(
  '.cache/corpus/root/usr/share/gocode/src/github.com/gabriel-vasile/mimetype/testdata/mp4.mp4',
);
const hasClip = fs.existsSync(CLIP);
if (!hasClip) console.warn(`video-inputs.test.ts skipped: ${CLIP} is missing (corpus not fetched)`);

interface Source {
  name: string;
  /** Encoder and muxer arguments after `-i CLIP`. */
  args: string[];
  /** Rewrites the file ffmpeg made. */
  edit?: (file: string) => void;
  /** The source's video: the real frame rate and length, measured from its packets. */
  fps: number;
  videoSeconds: number;
  audio: boolean;
}

let app: App & { dataDir: string };
let bin: Binaries;
const sources: Source[] = [];
const jobs = new Map<string, JobRecord>();

const RAW = ['-an', '-g', '30'];
/** The DVD menu's encoding: 0.8 s of NTSC MPEG-2, half a second of MP2 audio. */
const MENU = [
  '-t',
  '0.8',
  '-vf',
  'scale=720:480,setsar=8/9',
  '-r',
  '30000/1001',
  '-c:v',
  'mpeg2video',
  '-b:v',
  '4M',
  '-af',
  'atrim=0:0.5',
  '-c:a',
  'mp2',
  '-ar',
  '48000',
  '-f',
  'dvd',
];

/**
 * Leaves a timestamp on only every `keep`-th video PES packet of a program stream, as authoring
 * tools that stamp only some frames do (MPEG-2 requires one at least every 0.7 s): the PTS/DTS
 * flags are cleared and their bytes become header stuffing, so every size stays the same.
 */
function stripVideoTimestamps(file: string, keep: number): void {
  const data = fs.readFileSync(file);
  let stamped = 0;
  for (let i = data.indexOf(VIDEO_PES); i >= 0; i = data.indexOf(VIDEO_PES, i + 4)) {
    const flags = data[i + 7]!;
    if ((data[i + 6]! & 0xc0) !== 0x80 || (flags & 0xc0) === 0) continue;
    if (stamped++ % keep === 0) continue;
    data[i + 7] = flags & 0x3f;
    data.fill(0xff, i + 9, i + 9 + ((flags & 0xc0) === 0xc0 ? 10 : 5));
  }
  fs.writeFileSync(file, data);
}
const VIDEO_PES = Buffer.from([0, 0, 1, 0xe0]);

const SPECS: Array<Pick<Source, 'name' | 'args' | 'audio' | 'edit'>> = (
  [
    { name: 'mpeg2.mpg', args: [...RAW, '-c:v', 'mpeg2video', '-q:v', '4', '-f', 'mpeg2video'] },
    {
      name: 'annexb.h264',
      args: [...RAW, '-c:v', 'libx264', '-preset', 'veryfast', '-f', 'h264'],
    },
    {
      name: 'raw.hevc',
      args: [...RAW, '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error'],
    },
    { name: 'part2.m4v', args: [...RAW, '-c:v', 'mpeg4', '-q:v', '4', '-f', 'm4v'] },
    {
      // Frames jittered by up to 20 ms on a 1 ms time base: ffprobe finds no rate and reports the
      // time base (1000/1) with no average, as for screen recorders' WMV files.
      name: 'jitter.wmv',
      args: [
        '-vf',
        "settb=1/1000,setpts='round((N/30+0.02*random(1))*1000)'",
        '-enc_time_base:v',
        '1:1000',
        '-vsync',
        'passthrough',
        '-c:v',
        'wmv2',
        '-b:v',
        '1M',
        '-c:a',
        'wmav2',
        '-f',
        'asf',
      ],
    },
    // A DVD menu: 0.8 s of video, 0.5 s of audio, in a program stream.
    { name: 'menu.mpg', args: MENU },
    // The same with a timestamp on every fourth video frame only.
    { name: 'menu-sparse.mpg', args: MENU, edit: (file) => stripVideoTimestamps(file, 4) },
  ] as Array<Pick<Source, 'name' | 'args' | 'edit'>>
).map((s) => ({ ...s, audio: s.args.includes('-c:a') }));

interface Packet {
  pts_time?: string;
  duration_time?: string;
}

/** Real rate and length of the first video stream, from its packets (raw streams count them). */
function measureVideo(file: string): { fps: number; seconds: number } {
  const { packets } = ffprobeJson<{ packets: Packet[] }>(bin, [
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time,duration_time',
    file,
  ]);
  const times = packets
    .map((p) => Number(p.pts_time))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  if (times.length < packets.length) {
    // Not every packet timed (a raw stream, a sparsely stamped program stream): each packet is
    // one frame at the stream's nominal rate.
    const { streams } = ffprobeJson<{ streams: Array<{ r_frame_rate: string }> }>(bin, [
      '-select_streams',
      'v:0',
      '-show_streams',
      file,
    ]);
    const [num, den] = streams[0]!.r_frame_rate.split('/').map(Number) as [number, number];
    return { fps: num / den, seconds: (packets.length * den) / num };
  }
  const fps = (times.length - 1) / (times.at(-1)! - times[0]!);
  return { fps, seconds: times.length / fps };
}

interface Span {
  start: number;
  seconds: number;
}

/** Start and length of the output's first video and audio streams, from their packets. */
function outputStreams(file: string): Record<'video' | 'audio', Span | null> {
  const span = (selector: string) => {
    const { packets } = ffprobeJson<{ packets: Packet[] }>(bin, [
      '-select_streams',
      selector,
      '-show_entries',
      'packet=pts_time,duration_time',
      file,
    ]);
    if (packets.length === 0) return null;
    const starts = packets.map((p) => Number(p.pts_time));
    const ends = packets.map((p) => Number(p.pts_time) + Number(p.duration_time));
    const start = Math.min(...starts);
    return { start, seconds: Math.max(...ends) - start };
  };
  return { video: span('v:0'), audio: span('a:0') };
}

beforeAll(async () => {
  if (!hasClip) return;
  bin = (await testTools()).binaries;
  // 2 s pieces (the default is 6), so the 5.5 s sources would be cut if they were cut at all.
  app = await startEmbeddedApp({}, { MEDIAFLOW_SEGMENT_SECONDS: '2' });
  for (const spec of SPECS) {
    const file = path.join(app.dataDir, spec.name);
    ffmpeg(bin, ['-i', CLIP, ...spec.args, file]);
    spec.edit?.(file);
    const measured = measureVideo(file);
    sources.push({ ...spec, fps: measured.fps, videoSeconds: measured.seconds });
    jobs.set(
      spec.name,
      await submitAndWait(app, `inputs/${spec.name}`, fs.readFileSync(file), 'video-sd'),
    );
  }
}, 600_000);

afterAll(async () => {
  await app?.close();
});

describe.skipIf(!hasClip)('valid inputs of issue 14 go through the pipeline', () => {
  it.each(SPECS.map((s) => s.name))('%s', async (name) => {
    const source = sources.find((s) => s.name === name)!;
    const job = jobs.get(name)!;
    expect(job.state, `${job.error?.code} ${job.error?.message}`).toBe('succeeded');
    const mp4 = job.outputs.find((o) => o.role === 'mp4');
    expect(mp4).toBeDefined();
    const local = path.join(app.dataDir, `${name}.out.mp4`);
    await app.store.download(job.spec.outputBucket, mp4!.key, local);
    const { video, audio } = outputStreams(local);
    const show = (span: Span | null) =>
      span ? `${span.seconds.toFixed(3)} s from ${span.start.toFixed(3)}` : 'none';
    console.info(
      `${name}: source video ${source.videoSeconds.toFixed(3)} s at ${source.fps.toFixed(3)} ` +
        `fps; output video ${show(video)}, audio ${show(audio)}`,
    );
    expect(Math.abs(video!.seconds - source.videoSeconds)).toBeLessThanOrEqual(
      1 / source.fps + 1e-3,
    );
    if (!source.audio) {
      expect(audio).toBeNull();
      return;
    }
    // Audio starts and ends with the video, shorter source audio padded, within an AAC frame
    // (1024 samples at 48 kHz): the encoder's priming frame shows as a first packet that
    // starts one frame early (hidden by the edit list).
    const aacFrame = 1024 / 48_000;
    const end = (span: Span) => span.start + span.seconds;
    expect(Math.abs(audio!.start - video!.start)).toBeLessThanOrEqual(aacFrame + 1e-3);
    expect(Math.abs(end(audio!) - end(video!))).toBeLessThanOrEqual(aacFrame);
  });
});

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Parser } from 'm3u8-parser';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietContext } from '../../functions/context.js';
import { MediaflowError } from '../../functions/errors.js';
import type { Binaries } from '../../functions/ffmpeg/binaries.js';
import { processImage } from '../../functions/image/process-image.js';
import { decodeCheckArgs } from '../../functions/ffmpeg/args/probe.js';
import {
  timingFilters,
  transcodeLadderArgs,
} from '../../functions/ffmpeg/args/transcode-ladder.js';
import { makeThumbnails } from '../../functions/video/thumbnails.js';
import { probe } from '../../functions/video/probe.js';
import { frameGrid, placeOnGrid, resampleRate, splitVideo } from '../../functions/video/split.js';
import { transcodeSegment } from '../../functions/video/transcode.js';
import type { App } from '../../pipeline/app.js';
import { isFinal, type JobRecord } from '../../pipeline/jobs/job.js';
import type { ProbeTaskResult, SplitTaskResult } from '../../pipeline/plan/video-results.js';
import { contentTypeFor } from '../../pipeline/storage/content-type.js';
import { listKeys, startEmbeddedApp } from '../helpers/embedded-app.js';
import { runVideoChain } from '../helpers/video-chain.js';
import {
  decodeErrors,
  ffmpeg,
  ffprobeJson,
  streamFacts,
  TEST_LIMITS,
  testTools,
  videoPts,
} from '../helpers/video-fixtures.js';

/**
 * Real media made by others (../shared/corpus/fetch.sh: Debian packages' test data and assets)
 * through the whole embedded pipeline: real s3rver, the orchestrator, the in-process runner.
 *
 * Every file is submitted the way a storage event would submit it: no preset named, so the
 * default preset is picked from the Content-Type a client would send and the extension (`video`
 * for every video file, `image` for the images). That also exercises the routing.
 *
 * The expected outcome of each file is decided independently of the code under test: a video is
 * "decodable" when the bundled ffmpeg (the one that does the work) decodes it to the end with exit
 * status 0 and at least one frame; an image when sharp decodes its pixels. Decodable files must
 * give valid outputs; the others a typed MEDIA_* error, quickly. The split length is 2 s (the
 * default is 6) so that the short corpus clips are really cut and their joins are tested.
 */

const CORPUS = path.resolve('.cache/corpus');
const FETCH = path.resolve('../shared/corpus/fetch.sh');
const JOB_LIMIT_MS = 180_000;
/**
 * A video's whole test: the job (up to JOB_LIMIT_MS, whose own message names a hang), then the
 * independent checks (decodes, frame times, PSNR per rendition). cockatoo.mp4 (720p, three
 * renditions) took 132 s in all at load 23 on 2 cores, 78 s of it the job: vitest's 120 s default
 * cut it off mid-check, before the job's own limit could apply.
 */
const VIDEO_TEST_MS = JOB_LIMIT_MS + 120_000;
const ERROR_LIMIT_MS = 30_000;

function loadCorpus(): { videos: string[]; images: string[]; skip: string | null } {
  const lists = () => ['video.txt', 'image.txt'].map((name) => path.join(CORPUS, name));
  if (!lists().every((file) => fs.existsSync(file))) {
    const result = spawnSync('bash', [FETCH, CORPUS], { encoding: 'utf8', timeout: 600_000 });
    if (result.status !== 0 || !lists().every((file) => fs.existsSync(file))) {
      return {
        videos: [],
        images: [],
        skip:
          `corpus unavailable: ${FETCH} failed ` +
          `(${result.error?.message ?? `exit ${result.status}`}) ` +
          `${result.stderr?.trim().slice(-300) ?? ''}`,
      };
    }
  }
  const read = (file: string) =>
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((rel) => path.join(CORPUS, 'root', rel));
  const [videos, images] = lists().map(read) as [string[], string[]];
  if (videos.length === 0 || images.length === 0)
    return { videos, images, skip: `corpus lists are empty under ${CORPUS}` };
  return { videos, images, skip: null };
}

const corpus = loadCorpus();
if (corpus.skip) console.warn(`[corpus.test] SKIPPED: ${corpus.skip}`);
const title = (name: string) => (corpus.skip ? `${name} (skipped: ${corpus.skip})` : name);

/** Unique, readable object keys (several corpus files share a base name). */
function keyFor(file: string, index: number): string {
  const name = path.basename(file).replace(/[^A-Za-z0-9._-]/g, '_');
  return `corpus/${String(index).padStart(3, '0')}-${name}`;
}

/**
 * What a client would send as Content-Type: none for video (extension routing), the image type for
 * images.
 */
function clientContentType(file: string): string | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.psd') return 'image/vnd.adobe.photoshop';
  const type = contentTypeFor(file);
  return type.startsWith('image/') ? type : undefined;
}

async function submitAndWait(app: App, key: string): Promise<{ job: JobRecord; ms: number }> {
  const started = Date.now();
  const outcome = await app.orchestrator.submit({ bucket: app.config.buckets.input, key });
  if (outcome.status === 'ignored')
    throw new Error(`submission of ${key} ignored: ${outcome.reason}`);
  for (;;) {
    const job = await app.jobs.get(outcome.jobId);
    if (job && isFinal(job.state)) return { job, ms: Date.now() - started };
    if (Date.now() - started > JOB_LIMIT_MS)
      throw new Error(`job for ${key} still ${job?.state} after ${JOB_LIMIT_MS} ms: a hang`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Downloads every output of a job under `dir`, keeping the layout relative to the output prefix.
 */
async function downloadOutputs(app: App, job: JobRecord, dir: string): Promise<void> {
  for (const output of job.outputs) {
    const file = path.join(dir, output.key.slice(job.spec.outputPrefix.length));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await app.store.download(job.spec.outputBucket, output.key, file);
  }
}

// ---------------------------------------------------------------------------------------------
// Independent facts about sources and outputs (bundled ffmpeg / newer ffprobe, not the code under
// test)

interface DecodedVideo {
  /** Frame times (best-effort timestamps), seconds, in decode output order. */
  times: number[];
  /** End of the last frame minus the first frame's time: the video's real length. */
  duration: number;
}

function decodedVideo(bin: Binaries, file: string): DecodedVideo {
  type Frame = {
    best_effort_timestamp_time?: string;
    duration_time?: string;
    pkt_duration_time?: string;
  };
  const { frames } = ffprobeJson<{ frames?: Frame[] }>(bin, [
    '-select_streams',
    'v:0',
    '-show_entries',
    'frame=best_effort_timestamp_time,duration_time,pkt_duration_time',
    file,
  ]);
  const num = (v: string | undefined) => (v === undefined || v === 'N/A' ? null : Number(v));
  const timed = (frames ?? [])
    .map((f) => ({
      t: num(f.best_effort_timestamp_time),
      d: num(f.duration_time) ?? num(f.pkt_duration_time),
    }))
    .filter((f): f is { t: number; d: number | null } => f.t !== null);
  const times = timed.map((f) => f.t);
  if (times.length === 0) return { times, duration: 0 };
  const sorted = [...times].sort((a, b) => a - b);
  const deltas = sorted
    .slice(1)
    .map((t, i) => t - sorted[i]!)
    .filter((d) => d > 0)
    .sort((a, b) => a - b);
  const typical = deltas.length ? deltas[Math.floor(deltas.length / 2)]! : 0;
  let end = -Infinity;
  for (const f of timed) end = Math.max(end, f.t + (f.d && f.d > 0 ? f.d : typical));
  return { times, duration: end - sorted[0]! };
}

/**
 * Exit status 0 and at least one decoded frame from the bundled ffmpeg: the tool that does the work
 * can decode it.
 */
function ffmpegDecodes(
  bin: Binaries,
  file: string,
): { ok: boolean; frames: number; stderr: string } {
  const result = spawnSync(
    bin.ffmpeg,
    ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-f', 'framecrc', '-'],
    {
      encoding: 'utf8',
      env: { ...process.env, ...bin.env },
      maxBuffer: 256 * 1024 * 1024,
      timeout: 120_000,
    },
  );
  const frames = (result.stdout ?? '').split('\n').filter((l) => /^\d+,/.test(l)).length;
  return { ok: result.status === 0 && frames > 0, frames, stderr: (result.stderr ?? '').trim() };
}

function rate(text: string | undefined): number | null {
  const match = /^(\d+)\/(\d+)$/.exec(text ?? '');
  return match && Number(match[2]) > 0 && Number(match[1]) > 0
    ? Number(match[1]) / Number(match[2])
    : null;
}

function outputRate(bin: Binaries, file: string): number {
  const { streams } = ffprobeJson<{ streams: Array<{ r_frame_rate?: string }> }>(bin, [
    '-select_streams',
    'v:0',
    '-show_streams',
    file,
  ]);
  const r = rate(streams[0]?.r_frame_rate);
  if (!r) throw new Error(`no frame rate for ${file}`);
  return r;
}

/**
 * Frames of the source through ffmpeg's own `fps` filter at `fps`, in one pass over the whole file.
 */
function framesAtRate(bin: Binaries, file: string, fps: number): number {
  const result = spawnSync(
    bin.ffmpeg,
    [
      '-hide_banner',
      '-nostdin',
      '-v',
      'error',
      '-i',
      file,
      '-map',
      '0:v:0',
      '-vf',
      `fps=${fps}`,
      '-vsync',
      'passthrough',
      '-f',
      'framecrc',
      '-',
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, ...bin.env },
      maxBuffer: 256 * 1024 * 1024,
      timeout: 120_000,
    },
  );
  return (result.stdout ?? '').split('\n').filter((l) => /^\d+,/.test(l)).length;
}

/** The first video stream's matrix as ffprobe reads its tags (`unknown` when untagged). */
function colorSpace(bin: Binaries, file: string): string {
  const { streams } = ffprobeJson<{ streams: Array<{ color_space?: string }> }>(bin, [
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=color_space',
    file,
  ]);
  return streams[0]?.color_space ?? 'unknown';
}

/**
 * Scaler options that bring a BT.601-tagged source into the matrix of a BT.709-tagged output, so
 * that planes are compared in the same colour space (a correct conversion alone costs ~6 dB).
 */
function matrixTo(bin: Binaries, output: string, source: string): string {
  const sd = ['smpte170m', 'bt470bg'].includes(colorSpace(bin, source));
  return sd && colorSpace(bin, output) === 'bt709'
    ? ':in_color_matrix=bt601:out_color_matrix=bt709'
    : '';
}

/**
 * Per-frame PSNR (dB) of an output against the source decoded by ffmpeg in one pass, at the
 * output's size (and rate, when the output was resampled) and in the output's tagged matrix.
 */
function psnrPerFrame(
  bin: Binaries,
  output: string,
  source: string,
  size: { width: number; height: number },
  fps: number | null,
  stats: string,
): number[] {
  const reference = [
    ...(fps ? [`fps=${fps}`] : []),
    `scale=${size.width}:${size.height}:flags=bicubic${matrixTo(bin, output, source)}`,
    'format=yuv420p',
  ].join(',');
  const result = spawnSync(
    bin.ffmpeg,
    [
      '-hide_banner',
      '-nostdin',
      '-i',
      output,
      '-i',
      source,
      '-lavfi',
      `[1:v:0]${reference}[ref];[0:v:0]format=yuv420p[out];[out][ref]psnr=stats_file=${stats}`,
      '-f',
      'null',
      '-',
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, ...bin.env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    },
  );
  if (result.status !== 0 || !fs.existsSync(stats))
    throw new Error(`no PSNR for ${output}: ${(result.stderr ?? '').slice(-400)}`);
  return fs
    .readFileSync(stats, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const value = /psnr_avg:([0-9.]+|inf)/.exec(line)?.[1];
      if (!value) throw new Error(`unreadable PSNR line: ${line}`);
      return value === 'inf' ? 100 : Number(value);
    });
}

/**
 * The top rendition encoded in one pass over the whole source, by the same function and argument
 * builder the transcode tasks use, with the job's own settings and frame grid: what the chunked
 * output must match frame by frame.
 */
async function singlePassReference(
  app: App,
  job: JobRecord,
  file: string,
  dir: string,
): Promise<{ file: string; rendition: string } | null> {
  const results = await app.jobs.getResults(job.spec.id);
  const probed = results['probe'] as unknown as ProbeTaskResult;
  const split = results['split'] as unknown as SplitTaskResult;
  if (split.mode !== 'split' || job.spec.preset.kind !== 'video') return null;
  const top = probed.renditions[0]!;
  const frames = split.segments.reduce((n, s) => n + s.frameCount, 0);
  const timing = split.segments[0]!.timing;
  fs.mkdirSync(dir, { recursive: true });
  const encoded = await transcodeSegment(
    {
      index: 0,
      file,
      format: probed.media.demuxer,
      start: 0,
      duration: split.duration,
      frameCount: frames,
      ...(timing
        ? {
            timing: timing.resample
              ? { rate: timing.rate, resample: { offset: 0, frames } }
              : { rate: timing.rate },
          }
        : {}),
    },
    {
      tools: await testTools(),
      renditions: [top],
      rotation: probed.media.video!.rotation,
      fps: probed.media.video!.fps,
      // As the transcode task does: HDR tone-mapped, SD matrices converted to BT.709.
      color: probed.media.video!.color,
      hlsSegmentSeconds: job.spec.preset.hlsSegmentSeconds,
      encoder: { preset: job.spec.preset.x264Preset, crf: job.spec.preset.crf },
    },
    quietContext(dir),
  );
  return { file: encoded.outputs[0]!.file, rendition: top.name };
}

function hasAudio(bin: Binaries, file: string): boolean {
  const { streams } = ffprobeJson<{ streams: Array<{ codec_type: string; channels?: number }> }>(
    bin,
    ['-show_streams', file],
  );
  return streams.some((s) => s.codec_type === 'audio' && (s.channels ?? 0) > 0);
}

function hlsStarts(playlistText: string): { starts: number[]; total: number; uris: string[] } {
  const parser = new Parser();
  parser.push(playlistText);
  parser.end();
  let at = 0;
  const starts: number[] = [];
  for (const s of parser.manifest.segments) {
    starts.push(at);
    at += s.duration;
  }
  return { starts, total: at, uris: parser.manifest.segments.map((s) => s.uri) };
}

// ---------------------------------------------------------------------------------------------

interface Row {
  file: string;
  kind: string;
  outcome: string;
  ms: number;
}
const table: Row[] = [];

let bin: Binaries;
let work: string;

beforeAll(async () => {
  bin = (await testTools()).binaries;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-corpus-'));
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
  if (table.length) {
    const lines = table.map(
      (r) => `| ${r.file} | ${r.kind} | ${r.outcome} | ${(r.ms / 1000).toFixed(1)} s |`,
    );
    console.log(
      [
        '[corpus.test] outcomes',
        '| file | kind | outcome | time |',
        '|---|---|---|---|',
        ...lines,
      ].join('\n'),
    );
  }
});

describe.skipIf(corpus.skip !== null)(title('corpus videos through the embedded pipeline'), () => {
  let app: App & { dataDir: string };
  beforeAll(async () => {
    app = await startEmbeddedApp(
      {},
      { MEDIAFLOW_SEGMENT_SECONDS: '2', MEDIAFLOW_WORKER_CONCURRENCY: '2' },
    );
  });
  afterAll(() => app?.close());

  it('lists the expected corpus', () => {
    expect(corpus.videos.length).toBeGreaterThanOrEqual(15);
  });

  corpus.videos.forEach((file, index) => {
    const name = path.relative(path.join(CORPUS, 'root'), file);
    it(
      `${path.basename(file)}: valid outputs if ` + `ffmpeg decodes it, else a typed error`,
      async () => {
        const key = keyFor(file, index);
        await app.store.upload(app.config.buckets.input, key, file);
        const decodes = ffmpegDecodes(bin, file);
        const { job, ms } = await submitAndWait(app, key);
        const row: Row = { file: path.basename(file), kind: 'video', outcome: '', ms };
        table.push(row);

        if (!decodes.ok) {
          row.outcome =
            `${job.state} ${job.error?.code ?? ''} (ffmpeg cannot decode: ` +
            `${decodes.stderr.split('\n')[0]?.slice(0, 80) ?? ''})`;
          expect(job.state, `${name} does not decode with ffmpeg, so it must fail`).toBe('failed');
          expect(job.error?.code).toMatch(/^MEDIA_/);
          expect(ms).toBeLessThan(ERROR_LIMIT_MS);
          expect(await listKeys(app, app.config.buckets.output, job.spec.outputPrefix)).toEqual([]);
          return;
        }

        row.outcome =
          job.state === 'succeeded'
            ? 'outputs'
            : `${job.state} ${job.error?.code}: ${job.error?.message}`;
        expect(job.error, `${name} decodes with ffmpeg, so it must succeed`).toBeUndefined();
        expect(job.state).toBe('succeeded');
        const dir = path.join(work, key);
        await downloadOutputs(app, job, dir);
        const source = decodedVideo(bin, file);
        const sourceAudio = hasAudio(bin, file);

        if (source.times.length === 0) {
          // Audio-only: loudness-normalised audio outputs that decode.
          const audio = job.outputs.filter((o) => o.role === 'audio');
          expect(audio.length).toBeGreaterThan(0);
          for (const o of audio)
            expect(
              decodeErrors(bin, path.join(dir, o.key.slice(job.spec.outputPrefix.length))),
            ).toBe('');
          row.outcome = `outputs (audio: ${audio.map((o) => o.format).join(', ')})`;
          return;
        }

        const mp4s = job.outputs.filter((o) => o.role === 'mp4');
        expect(mp4s.length).toBeGreaterThan(0);
        const renditions: string[] = [];
        const startsByRendition: string[] = [];
        let resampled = false;
        let worstPsnr = Infinity;
        let worstVsSingle: number | null = null;
        const reference = await singlePassReference(app, job, file, path.join(dir, 'single'));
        for (const o of mp4s) {
          const rendition = path.basename(o.key, '.mp4');
          renditions.push(rendition);
          const mp4 = path.join(dir, 'mp4', `${rendition}.mp4`);
          const playlist = path.join(dir, 'hls', rendition, 'index.m3u8');
          expect(decodeErrors(bin, mp4), `${name} ${rendition} MP4 decode`).toBe('');
          expect(decodeErrors(bin, playlist), `${name} ${rendition} HLS decode`).toBe('');

          const facts = streamFacts(bin, mp4);
          const fps = outputRate(bin, mp4);
          const tolerance = Math.min(1 / fps, 0.05) + 1e-3;
          expect(
            Math.abs(facts.videoDuration! - source.duration),
            `${name} ${rendition} duration ${facts.videoDuration} vs source ${source.duration}`,
          ).toBeLessThanOrEqual(tolerance);
          if (sourceAudio) {
            expect(facts.audioDuration, `${name} ${rendition} has audio`).not.toBeNull();
            expect(Math.abs(facts.audioDuration! - facts.videoDuration!)).toBeLessThanOrEqual(0.05);
          } else {
            expect(facts.audioDuration).toBeNull();
          }

          const out = decodedVideo(bin, mp4);
          expect(out.times.length).toBe(facts.videoFrames);
          const resampledHere = out.times.length !== source.times.length;
          if (!resampledHere) {
            // Passed through: every source frame, each at its own time rounded onto the output's
            // grid.
            const src = [...source.times].sort((a, b) => a - b);
            const got = [...out.times].sort((a, b) => a - b);
            const worst = Math.max(
              ...got.map((t, i) => {
                const want = Math.round((src[i]! - src[0]!) * fps) / fps;
                return Math.abs(t - got[0]! - want);
              }),
            );
            expect(worst, `${name} ${rendition}: frame times drift from the source`).toBeLessThan(
              0.002,
            );
          } else {
            // Resampled (variable frame rate): constant rate, and the frames ffmpeg's fps filter
            // gives the whole source at that rate (one more at most: the last frame's length is a
            // guess).
            resampled = true;
            const got = [...out.times].sort((a, b) => a - b);
            for (const [i, t] of got.entries())
              expect(Math.abs(t - got[0]! - i / fps)).toBeLessThan(0.002);
            expect(
              Math.abs(out.times.length - framesAtRate(bin, file, fps)),
              `${name} ${rendition} frame count at ${fps} fps`,
            ).toBeLessThanOrEqual(1);
          }

          const psnr = psnrPerFrame(
            bin,
            mp4,
            file,
            { width: facts.width!, height: facts.height! },
            resampledHere ? fps : null,
            path.join(dir, `${rendition}.psnr`),
          );
          worstPsnr = Math.min(worstPsnr, ...psnr);
          expect(
            Math.min(...psnr),
            `${name} ${rendition}: a frame unlike the source`,
          ).toBeGreaterThan(10);
          if (reference?.rendition === rendition) {
            // Frame by frame, the chunked encode is as faithful as one pass over the whole
            // source: a piece decoded without the state it needed (or a frame out of place) is
            // 20+ dB worse.
            const whole = psnrPerFrame(
              bin,
              reference.file,
              file,
              { width: facts.width!, height: facts.height! },
              resampledHere ? fps : null,
              path.join(dir, 'single.psnr'),
            );
            expect(psnr.length).toBe(whole.length);
            worstVsSingle = Math.min(...psnr.map((p, i) => p - whole[i]!));
            expect(
              worstVsSingle,
              `${name} ${rendition}: a frame is much worse than in a single-pass encode`,
            ).toBeGreaterThan(-5);
          }

          const hls = hlsStarts(fs.readFileSync(playlist, 'utf8'));
          expect(Math.abs(hls.total - facts.videoDuration!)).toBeLessThanOrEqual(0.05);
          for (const uri of hls.uris)
            expect(fs.existsSync(path.join(dir, 'hls', rendition, uri))).toBe(true);
          startsByRendition.push(hls.starts.map((s) => s.toFixed(3)).join(' '));
          const hlsFacts = streamFacts(bin, playlist);
          expect(hlsFacts.videoFrames, `${name} ${rendition} HLS frames`).toBe(facts.videoFrames);
        }
        expect(
          new Set(startsByRendition).size,
          `${name}: HLS segments start at the same times in every rendition`,
        ).toBe(1);

        const master = new Parser();
        master.push(fs.readFileSync(path.join(dir, 'hls', 'master.m3u8'), 'utf8'));
        master.end();
        expect(master.manifest.playlists!.map((p) => p.uri).sort()).toEqual(
          renditions.map((r) => `${r}/index.m3u8`).sort(),
        );
        for (const role of ['poster', 'sprite']) {
          const o = job.outputs.find((x) => x.role === role)!;
          const meta = await sharp(
            path.join(dir, o.key.slice(job.spec.outputPrefix.length)),
          ).metadata();
          expect(meta.format).toBe('jpeg');
        }
        row.outcome =
          `outputs: ${renditions.join(', ')}` +
          (sourceAudio ? '' : ', no audio') +
          (resampled ? ', resampled to CFR' : '') +
          `; min PSNR ${worstPsnr.toFixed(1)} dB` +
          (worstVsSingle === null
            ? ' (not split)'
            : `, split: worst frame ${worstVsSingle.toFixed(1)} dB vs single pass`);
      },
      VIDEO_TEST_MS,
    );
  });

  it('leaves no intermediates behind', async () => {
    expect(await listKeys(app, app.config.buckets.output, '.mediaflow-scratch/')).toEqual([]);
    const scratch = app.config.scratchDir;
    expect(fs.existsSync(scratch) ? fs.readdirSync(scratch) : []).toEqual([]);
  });
});

/** Pixels decode with sharp: the independent judge of whether an image is readable. */
async function sharpDecodes(file: string): Promise<boolean> {
  try {
    await sharp(file, { limitInputPixels: false }).raw().toBuffer();
    return true;
  } catch {
    return false;
  }
}

/**
 * A representative subset for the full default image preset (JPEG/WebP/AVIF x 4 widths is 90 s
 * over all 324 files on two cores): one file per distinct (format, channels, bit depth, alpha,
 * palette, animation, EXIF orientation, odd size) combination, the largest by pixels and by
 * bytes, the smallest, and every file sharp cannot read. Chosen from the headers, not by name.
 */
async function representativeImages(files: readonly string[]): Promise<string[]> {
  const picked = new Map<string, string>();
  let largestPixels = { file: '', pixels: -1 };
  let largestBytes = { file: '', bytes: -1 };
  let smallest = { file: '', pixels: Infinity };
  for (const file of files) {
    let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
    try {
      meta = await sharp(file, { animated: true }).metadata();
    } catch {
      picked.set(`unreadable ${file}`, file);
      continue;
    }
    const height = meta.pageHeight ?? meta.height ?? 0;
    const width = meta.width ?? 0;
    const key = [
      meta.format,
      meta.channels,
      meta.depth,
      meta.hasAlpha,
      meta.isPalette,
      (meta.pages ?? 1) > 1,
      meta.orientation ?? 1,
      width % 2 === 1 || height % 2 === 1,
    ].join(' ');
    if (!picked.has(key)) picked.set(key, file);
    const pixels = width * height;
    const bytes = fs.statSync(file).size;
    if (pixels > largestPixels.pixels) largestPixels = { file, pixels };
    if (bytes > largestBytes.bytes) largestBytes = { file, bytes };
    if (pixels < smallest.pixels) smallest = { file, pixels };
  }
  return [...new Set([...picked.values(), largestPixels.file, largestBytes.file, smallest.file])];
}

describe.skipIf(corpus.skip !== null)(title('corpus images'), () => {
  let app: App & { dataDir: string };
  let subset: string[] = [];
  beforeAll(async () => {
    app = await startEmbeddedApp({}, { MEDIAFLOW_WORKER_CONCURRENCY: '2' });
    subset = await representativeImages(corpus.images);
  });
  afterAll(() => app?.close());

  it(
    'a representative subset through the pipeline with the default image preset: outputs or a ' +
      'typed error',
    async () => {
      expect(corpus.images.length).toBeGreaterThanOrEqual(300);
      expect(subset.length).toBeGreaterThanOrEqual(10);
      for (const file of subset) {
        const index = corpus.images.indexOf(file);
        const key = keyFor(file, index);
        const contentType = clientContentType(file);
        await app.store.upload(
          app.config.buckets.input,
          key,
          file,
          contentType ? { contentType } : {},
        );
        const readable = await sharpDecodes(file);
        const { job, ms } = await submitAndWait(app, key);
        const row: Row = {
          file: path.basename(file),
          kind: `image (${job.spec.preset.name} preset)`,
          outcome:
            job.state === 'succeeded'
              ? `${job.outputs.length} outputs`
              : `${job.error?.code}: ${job.error?.message.slice(0, 90)}`,
          ms,
        };
        table.push(row);
        if (!readable) {
          expect(job.state, `${file} is unreadable, so it must fail`).toBe('failed');
          expect(job.error?.code).toMatch(/^MEDIA_/);
          expect(ms).toBeLessThan(ERROR_LIMIT_MS);
          expect(await listKeys(app, app.config.buckets.output, job.spec.outputPrefix)).toEqual([]);
          continue;
        }
        expect(job.error, `${file} is readable, so it must succeed`).toBeUndefined();
        expect(job.spec.preset.name).toBe('image');
        const meta = await sharp(file).metadata();
        const sourceWidth = (meta.orientation ?? 1) >= 5 ? meta.height! : meta.width!;
        const images = job.outputs.filter((o) => o.role === 'image');
        expect(new Set(images.map((o) => o.format))).toEqual(new Set(['jpeg', 'webp', 'avif']));
        for (const o of images) {
          const bytes = await app.store.getBytes(job.spec.outputBucket, o.key);
          const out = await sharp(bytes).metadata();
          expect(out.format === 'heif' ? 'avif' : out.format).toBe(o.format);
          expect(out.width).toBe(o.width);
          expect(out.width!).toBeLessThanOrEqual(sourceWidth);
          await sharp(bytes).raw().toBuffer();
        }
      }
    },
  );

  it(
    `every corpus image through the image function with a light preset (JPEG at 320 px): ` +
      `outputs or a typed error, never a crash`,
    async () => {
      const dir = fs.mkdtempSync(path.join(work, 'light-'));
      const counts: Record<string, number> = {};
      const started = Date.now();
      for (const file of corpus.images) {
        const scratch = fs.mkdtempSync(path.join(dir, 'i-'));
        const readable = await sharpDecodes(file);
        try {
          const result = await processImage(
            file,
            { widths: [320], formats: ['jpeg'] },
            quietContext(scratch),
          );
          expect(readable, `${file} gave outputs but sharp cannot decode it`).toBe(true);
          expect(result.outputs).toHaveLength(1);
          const out = await sharp(result.outputs[0]!.file).metadata();
          expect(out.format).toBe('jpeg');
          expect(out.width).toBe(Math.min(320, result.source.width));
          counts['outputs'] = (counts['outputs'] ?? 0) + 1;
        } catch (error) {
          if (!(error instanceof MediaflowError))
            throw new Error(`${file}: untyped crash: ${String(error)}`, { cause: error });
          expect(error.code, `${file}: ${error.message}`).toMatch(/^MEDIA_/);
          expect(
            readable,
            `${file} is readable by sharp but failed with ${error.code}: ${error.message}`,
          ).toBe(false);
          counts[error.code] = (counts[error.code] ?? 0) + 1;
        } finally {
          fs.rmSync(scratch, { recursive: true, force: true });
        }
      }
      table.push({
        file: `all ${corpus.images.length} images`,
        kind: 'image (light: jpeg 320)',
        outcome: Object.entries(counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
        ms: Date.now() - started,
      });
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(corpus.images.length);
    },
  );
});

/**
 * Regression tests for what the corpus found, on generated media (they run without the corpus).
 * Each failed before its fix: see the comments.
 */
describe('fixes found with the corpus', () => {
  const r = (num: number, den = 1) => ({ num, den });

  it('frame grid: CFR passes through on the base rate; gaps and collisions are resampled', () => {
    const cfr = Array.from({ length: 100 }, (_, k) => k / 30);
    expect(frameGrid(cfr, { frameRate: r(30), baseFrameRate: r(30) })).toEqual({
      rate: r(30),
      resample: false,
    });
    // A clock slightly off the nominal rate (soundwave.mp4: 17.0003 fps in a 17/1 stream) still
    // fills the grid.
    const drift = Array.from({ length: 3544 }, (_, k) => k * 0.058822);
    expect(frameGrid(drift, { frameRate: r(318960000, 18762353), baseFrameRate: r(17) })).toEqual({
      rate: r(17),
      resample: false,
    });
    // A 1.1 s hold (asf.asf): x264 does not carry the gap into packet durations, so HLS EXTINFs
    // came out short.
    const held = [...cfr.slice(0, 50), ...cfr.slice(50).map((t) => t + 1.1)];
    expect(frameGrid(held, { frameRate: r(30), baseFrameRate: r(30) })).toEqual({
      rate: r(30),
      resample: true,
    });
    // Jittered 90 kHz timestamps: two frames in one slot of the 1/avg grid.
    const jitter = Array.from({ length: 240 }, (_, k) => k / 30 + 0.02 * Math.sin(k * 1.3));
    expect(
      frameGrid(
        jitter.map((t) => t - jitter[0]!),
        { frameRate: r(10800000, 358781), baseFrameRate: r(90000) },
      ),
    ).toEqual({ rate: r(30), resample: true });
    // The same stream as muxed by ffmpeg 5, which counts the last frame's duration: its average
    // (29.977) is nearer 30000/1001, but the frame times say 30.
    expect(
      frameGrid(
        jitter.map((t) => t - jitter[0]!),
        { frameRate: r(10800000, 360281), baseFrameRate: r(90000) },
      ),
    ).toEqual({ rate: r(30), resample: true });
    expect(frameGrid(cfr, { frameRate: r(0), baseFrameRate: null })).toBeNull();
  });

  it(
    'resample rate: the nominal base rate, else a standard rate near the average, else whole ' +
      'fps',
    () => {
      expect(resampleRate(r(30), r(24))).toEqual(r(30));
      expect(resampleRate(r(90000), r(10800000, 358781))).toEqual(r(30));
      expect(resampleRate(null, r(2997, 100))).toEqual(r(30000, 1001));
      expect(resampleRate(r(120), r(173, 10))).toEqual(r(17));
    },
  );

  it(
    'resampled pieces cover consecutive grid slots, so ' + 'they join with none missing or doubled',
    () => {
      const grid = { rate: r(30), resample: true };
      const cuts = [0, 2.0103, 5.0044, 8.0061];
      const pieces = cuts.slice(0, -1).map((start, i) => placeOnGrid(start, cuts[i + 1]!, 0, grid));
      expect(pieces.map((p) => p.frameCount)).toEqual([60, 90, 90]);
      pieces.forEach((p, i) => {
        expect(p.start * 30).toBeCloseTo(
          pieces.slice(0, i).reduce((n, q) => n + q.frameCount, 0),
          9,
        );
        expect(Math.abs(p.timing!.resample!.offset)).toBeLessThanOrEqual(0.5 / 30);
      });
      expect(timingFilters(pieces[1]!.timing)).toEqual([
        'setpts=PTS-STARTPTS+(0.010300)/TB',
        'tpad=stop_mode=clone:stop_duration=3.033333',
        'fps=fps=30/1:start_time=0',
        'tpad=stop_mode=clone:stop=90',
        'trim=end_frame=90',
      ]);
      expect(timingFilters({ rate: r(15) })).toEqual(['setpts=PTS-STARTPTS']);
      const args = transcodeLadderArgs(
        {
          input: { file: '/s/seg.nut', format: 'nut' },
          rotate: 'explicit',
          rotation: 0,
          outputs: [
            { width: 352, height: 288, maxBitrate: 1e6, bufferBits: 2e6, file: '/s/o.mp4' },
          ],
          forceKeyframesAt: [],
          encoder: { preset: 'veryfast', crf: 23, gopFrames: 30 },
          timing: { rate: r(15) },
        },
        15,
      );
      expect(
        args.slice(args.indexOf('-enc_time_base'), args.indexOf('-enc_time_base') + 2),
      ).toEqual(['-enc_time_base', '1:15']);
    },
  );

  it(
    'the tail decode check can decode to the tail instead of seeking (files without a usable ' +
      'index)',
    () => {
      const args = decodeCheckArgs('/s/source', 'matroska', {
        video: true,
        audio: false,
        from: 'tail',
        tailSeekSeconds: 2.6,
        seek: 'decode',
      });
      expect(args.indexOf('-ss')).toBeGreaterThan(args.indexOf('-i'));
      expect(args.slice(args.indexOf('-ss'), args.indexOf('-ss') + 2)).toEqual(['-ss', '2.6']);
    },
  );

  let dir: string;
  beforeAll(async () => {
    bin ??= (await testTools()).binaries;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-corpus-fixes-'));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(
    'VFR source (jittered 90 kHz timestamps): split, resampled to 30 fps CFR, joins exact, ' +
      'decodes cleanly',
    async () => {
      // Before: passthrough onto a 1/avg grid put two frames in one slot: "non monotonically
      // increasing dts" on decode.
      const tools = await testTools();
      const source = path.join(dir, 'vfr.mp4');
      ffmpeg(bin, [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=s=320x180:r=30:d=8',
        '-f',
        'lavfi',
        '-i',
        'sine=f=440:d=8',
        '-vf',
        'settb=1/90000,setpts=(N/30+0.02*sin(N*1.3))/TB',
        '-vsync',
        'passthrough',
        '-enc_time_base',
        '1:90000',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-g',
        '30',
        '-keyint_min',
        '30',
        '-sc_threshold',
        '0',
        '-video_track_timescale',
        '90000',
        '-c:a',
        'aac',
        '-shortest',
        source,
      ]);
      const chain = await runVideoChain(tools, source, path.join(dir, 'vfr-work'), {
        heights: [180],
        segmentSeconds: 2,
        hlsSeconds: 2,
      });
      expect(chain.split.mode).toBe('split');
      expect(chain.split.segments.length).toBeGreaterThanOrEqual(3);
      expect(chain.split.segments.every((s) => s.timing?.resample)).toBe(true);
      const out = chain.merged[0]!;
      expect(decodeErrors(bin, out.mp4File)).toBe('');
      expect(decodeErrors(bin, out.playlistFile)).toBe('');
      const pts = videoPts(bin, out.mp4File);
      for (const [k, t] of pts.entries())
        expect(Math.abs(t - pts[0]! - k / 30)).toBeLessThan(0.001);
      // The same frames ffmpeg's fps filter picks in one pass over the whole source (the last one
      // may be extra: the source's last frame has no stated duration, and we hold it one frame).
      const single = framesAtRate(bin, source, 30);
      expect(pts.length - single).toBeGreaterThanOrEqual(0);
      expect(pts.length - single).toBeLessThanOrEqual(1);
      const psnr = psnrPerFrame(
        bin,
        out.mp4File,
        source,
        { width: 320, height: 180 },
        30,
        path.join(dir, 'vfr.psnr'),
      );
      expect(Math.min(...psnr.slice(0, single))).toBeGreaterThan(25);
      const facts = streamFacts(bin, out.mp4File);
      expect(Math.abs(facts.audioDuration! - facts.videoDuration!)).toBeLessThanOrEqual(0.05);
    },
  );

  it(
    'H.263 split into NUT pieces keeps the 1/15 s grid (ffmpeg guessed 30000/1001 for the ' +
      'pieces: +0.1% drift)',
    async () => {
      const tools = await testTools();
      const source = path.join(dir, 'h263.3gp');
      ffmpeg(bin, [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=s=352x288:r=15:d=6',
        '-c:v',
        'h263',
        '-g',
        '15',
        '-q:v',
        '4',
        '-f',
        '3gp',
        source,
      ]);
      const chain = await runVideoChain(tools, source, path.join(dir, 'h263-work'), {
        heights: [288],
        segmentSeconds: 2,
        hlsSeconds: 2,
      });
      expect(chain.split.segments.length).toBeGreaterThanOrEqual(3);
      const pts = videoPts(bin, chain.merged[0]!.mp4File);
      expect(pts).toHaveLength(90);
      expect(Math.max(...pts.map((t, k) => Math.abs(t - pts[0]! - k / 15)))).toBeLessThan(0.0005);
    },
  );

  it(
    'a 2-frame still at 1 fps: poster made (thumbnail=1 segfaulted ffmpeg), HLS readable by ' +
      'ffmpeg (1.7 kB TS was probed as MPEG-PS)',
    async () => {
      const tools = await testTools();
      const source = path.join(dir, 'still.mp4');
      ffmpeg(bin, [
        '-f',
        'lavfi',
        '-i',
        'color=c=gray:s=320x240:r=1:d=2',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-pix_fmt',
        'yuv420p',
        source,
      ]);
      const chain = await runVideoChain(tools, source, path.join(dir, 'still-work'), {
        heights: [240],
        segmentSeconds: 2,
        hlsSeconds: 4,
      });
      const out = chain.merged[0]!;
      expect(out.hlsSegments).toHaveLength(1);
      expect(out.hlsSegments[0]!.bytes).toBeGreaterThanOrEqual(12 * 188);
      expect(decodeErrors(bin, out.playlistFile)).toBe('');
      expect(streamFacts(bin, out.playlistFile).videoFrames).toBe(2);
      const thumbs = await makeThumbnails(
        source,
        chain.info,
        { tools, intervalSeconds: 5, thumbWidth: 160, columns: 5 },
        quietContext(path.join(dir, 'still-work')),
      );
      expect((await sharp(thumbs.posterFile).metadata()).format).toBe('jpeg');
    },
  );

  it(
    'H.264 High 4:4:4 is not split (old x264 lossless 4:4:4 needs the first SEI to decode: ' +
      'cockatoo.mp4 came out as garbage)',
    async () => {
      const tools = await testTools();
      const source = path.join(dir, 'yuv444.mp4');
      ffmpeg(bin, [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=s=320x180:r=30:d=6',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-pix_fmt',
        'yuv444p',
        '-g',
        '30',
        '-keyint_min',
        '30',
        '-sc_threshold',
        '0',
        source,
      ]);
      const ctx = quietContext(path.join(dir, 'yuv444-work'));
      fs.mkdirSync(ctx.scratchDir);
      const info = await probe(source, { tools, limits: TEST_LIMITS }, ctx);
      expect(info.video!.profile).toMatch(/4:4:4/);
      const split = await splitVideo(
        source,
        info,
        { tools, segmentSeconds: 2, maxSegments: 50 },
        ctx,
      );
      expect(split.mode).toBe('whole');
      expect(split.reason).toMatch(/4:4:4/);
    },
  );
});

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBinaries } from '../../functions/ffmpeg/binaries.js';
import { presetListSchema } from '../../pipeline/api/preset-view.js';
import { buildServer } from '../../pipeline/api/server.js';
import { waitForJobs } from '../../pipeline/jobs/wait.js';
import { listenToEmbeddedEvents } from '../../pipeline/triggers/embedded-events.js';
import type { EventOutcome } from '../../pipeline/triggers/submit-events.js';
import { startEmbeddedApp } from '../helpers/embedded-app.js';
import { ffmpeg, makeSource, tempDir } from '../helpers/video-fixtures.js';

/**
 * The presets file of the README, run end to end: uploads reach the embedded store, its events
 * go through the routes, real ffmpeg and sharp make exactly what the file's presets say.
 */
const PRESETS = path.resolve('samples/presets.yaml');
const CLI = path.resolve('bin/mediaflow.js');

describe('the sample presets file on the embedded pipeline', () => {
  let app: Awaited<ReturnType<typeof startEmbeddedApp>>;
  let server: FastifyInstance;
  let dir: string;
  let clip: string;
  const outcomes = new Map<string, EventOutcome['outcome'][]>();
  let stop: () => void;

  beforeAll(async () => {
    dir = await tempDir('presets-pipeline');
    clip = makeSource(await resolveBinaries(), path.join(dir, 'clip.mp4'), {
      width: 1280,
      height: 720,
      fps: 24,
      seconds: 2,
      gop: 24,
      audio: true,
    });
    // The embedded store is this test's own server, so the sample's bucket names are safe here.
    app = await startEmbeddedApp(
      {},
      {
        MEDIAFLOW_PRESETS_FILE: PRESETS,
        MEDIAFLOW_INPUT_BUCKET: 'mediaflow-input',
        MEDIAFLOW_OUTPUT_BUCKET: 'mediaflow-output',
        MEDIAFLOW_WORKER_CONCURRENCY: '2',
      },
    );
    server = await buildServer(app, { rateLimit: false });
    stop = listenToEmbeddedEvents(
      app.embedded!,
      app.orchestrator,
      'mediaflow-input',
      app.log,
      ({ event, outcome }) => {
        // Uploads only; every outcome kept, since one upload can make several jobs.
        if (event.type === 'created')
          outcomes.set(event.key, [...(outcomes.get(event.key) ?? []), outcome]);
      },
    );
  });
  afterAll(async () => {
    stop();
    await server.close();
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function uploaded(key: string, file: string, contentType: string, jobs: number) {
    await app.store.upload('mediaflow-input', key, file, { contentType });
    for (let i = 0; i < 400 && (outcomes.get(key)?.length ?? 0) < jobs; i++)
      await new Promise((r) => setTimeout(r, 25));
    return outcomes.get(key) ?? [];
  }
  const jobIdOf = (o: EventOutcome['outcome']) => {
    if (o.status === 'ignored') throw new Error(`ignored: ${o.reason}`);
    return o.jobId;
  };

  it('routes each upload to its presets and makes exactly their outputs', async () => {
    const logo = await uploaded(
      'assets/logo.png',
      path.resolve('samples/assets/watermark.png'),
      'image/png',
      1,
    );
    expect(logo).toEqual([{ status: 'ignored', reason: 'no-route' }]);

    const photo = path.join(dir, 'me.jpg');
    await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3060a0' } })
      .jpeg()
      .toFile(photo);
    const avatar = await uploaded('avatars/me.jpg', photo, 'image/jpeg', 1);
    expect(avatar.map((o) => (o.status === 'created' ? o.preset : o.status))).toEqual(['avatar']);

    const clips = await uploaded('clips/c.mp4', clip, 'video/mp4', 2);
    expect(clips.map((o) => (o.status === 'created' ? o.preset : o.status))).toEqual([
      'clip-hd',
      'video-sd',
    ]);

    const jobs = await waitForJobs(app.jobs, [...avatar, ...clips].map(jobIdOf), undefined);
    expect(jobs.map((j) => [j.spec.preset.name, j.state, j.error?.message])).toEqual([
      ['avatar', 'succeeded', undefined],
      ['clip-hd', 'succeeded', undefined],
      ['video-sd', 'succeeded', undefined],
    ]);
    const [image, hd, sd] = jobs as [(typeof jobs)[0], (typeof jobs)[0], (typeof jobs)[0]];
    expect(
      image.outputs
        .map((o) => [o.role, o.format, o.width])
        .sort((a, b) => (a[2]! > b[2]! ? 1 : -1)),
    ).toEqual([
      ['image', 'webp', 100],
      ['image', 'webp', 300],
    ]);
    const heights = (job: typeof hd) =>
      job.outputs
        .filter((o) => o.role === 'mp4')
        .map((o) => o.height)
        .sort((a, b) => b! - a!);
    expect(heights(hd)).toEqual([720, 240]);
    expect(heights(sd)).toEqual([480, 360, 240]);

    // The logo from the bucket sits bottom-right on the avatar: that corner is no longer the
    // flat source colour, the opposite one still is.
    const avatarFile = path.join(dir, 'avatar-300.webp');
    const key = image.outputs.find((o) => o.width === 300)!.key;
    await app.store.download('mediaflow-output', key, avatarFile);
    const corner = async (left: number, top: number) => {
      const region = await sharp(avatarFile)
        .extract({ left, top, width: 20, height: 20 })
        .png()
        .toBuffer();
      return (await sharp(region).stats()).channels.map((c) => c.stdev);
    };
    expect(Math.max(...(await corner(2, 2)))).toBeLessThan(2);
    expect(Math.max(...(await corner(300 - 40, 225 - 30)))).toBeGreaterThan(10);

    // The text is drawn bottom-left on the 720p rendition: there the frame differs from the
    // source far more than in the top-right corner, which only carries coding noise.
    const mp4 = hd.outputs.find((o) => o.role === 'mp4' && o.height === 720)!.key;
    const rendition = path.join(dir, 'hd.mp4');
    await app.store.download('mediaflow-output', mp4, rendition);
    const bin = await resolveBinaries();
    const frame = (file: string, out: string) =>
      ffmpeg(bin, ['-ss', '1', '-i', file, '-frames:v', '1', path.join(dir, out)]);
    frame(rendition, 'out.png');
    frame(clip, 'src.png');
    const diff = async (left: number, top: number) => {
      const region = { left, top, width: 300, height: 60 };
      const a = await sharp(path.join(dir, 'out.png')).extract(region).raw().toBuffer();
      const b = await sharp(path.join(dir, 'src.png')).extract(region).raw().toBuffer();
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
      return sum / a.length;
    };
    const textCorner = await diff(30, 720 - 30 - 60);
    const plainCorner = await diff(1280 - 330, 30);
    expect(textCorner).toBeGreaterThan(plainCorner * 3);
    expect(textCorner).toBeGreaterThan(8);
  });

  it('fails a job whose watermark object is missing, naming it', async () => {
    await app.store.delete('mediaflow-input', ['assets/logo.png']);
    const [outcome] = await uploaded(
      'avatars/second.jpg',
      path.resolve('samples/photo.jpg'),
      'image/jpeg',
      1,
    );
    const [job] = await waitForJobs(app.jobs, [jobIdOf(outcome!)]);
    expect(job!.state).toBe('failed');
    expect(job!.error).toMatchObject({
      code: 'ASSET_NOT_FOUND',
      retryable: false,
      message:
        'The preset "avatar" needs s3://mediaflow-input/assets/logo.png (its watermark logo), ' +
        'which does not exist',
    });
  });

  it('shows the presets over the API and the CLI; an invalid file exits 3', () => {
    return (async () => {
      const list = presetListSchema.parse((await server.inject({ url: '/v1/presets' })).json());
      expect(list.presets.filter((p) => p.origin === 'file').map((p) => p.name)).toEqual([
        'clip-hd',
        'avatar',
      ]);
      const hd = (await server.inject({ url: '/v1/presets/clip-hd' })).json();
      expect(hd).toMatchObject({ ladder: [720, 240], crf: 26, watermark: { type: 'text' } });

      const run = (file: string) =>
        spawnSync(process.execPath, [CLI, 'presets'], {
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, MEDIAFLOW_PRESETS_FILE: file },
        });
      const shown = run(PRESETS);
      expect(shown.status).toBe(0);
      expect(shown.stdout).toMatch(/^clip-hd +video +file +ladder 720\/240, CRF 26.*watermark/m);
      expect(shown.stdout).toMatch(
        /^avatar +image +file +widths 100\/300, webp, watermark image$/m,
      );
      expect(shown.stdout).toContain('1. prefix clips/ -> clip-hd, video-sd');

      const broken = path.join(dir, 'broken.yaml');
      fs.writeFileSync(
        broken,
        fs.readFileSync(PRESETS, 'utf8').replace('ladder: [720, 240]', 'ladder: [720, 24]'),
      );
      const line =
        fs
          .readFileSync(broken, 'utf8')
          .split('\n')
          .findIndex((l) => l.includes('ladder: [720, 24]')) + 1;
      const invalid = run(broken);
      expect(invalid.status).toBe(3);
      expect(invalid.stderr).toContain(
        `Expected a number >= 64 for presets[0].ladder[1] but received 24 (line ${line})`,
      );
    })();
  });
});

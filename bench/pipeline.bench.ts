import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveBinaries } from '../functions/ffmpeg/binaries.js';
import { computeLadder } from '../functions/video/ladder.js';
import { findPreset } from '../pipeline/presets/builtin.js';
import { bareSharpLadder, plainLadderArgs, runCommand } from './baselines.js';
import { benchApp, runThroughPipeline } from './embedded.js';
import { bestOf, type Row } from './harness.js';

const RUNS = 3;

/**
 * Upload to finished outputs, for one sample image and one sample video, against a bare script
 * doing the same media work in the same run (bare sharp; one plain ffmpeg command). The ratio is
 * pipeline time over bare time: what storage, events, planning and packaging cost on top.
 */
export default async function run(): Promise<Row[]> {
  const { ffmpeg } = await resolveBinaries({
    ffmpegPath: process.env.FFMPEG_PATH,
    ffprobePath: process.env.FFPROBE_PATH,
  });
  const photo = path.resolve('samples/photo.jpg');
  const video = path.resolve('samples/landscape.mp4');
  const image = findPreset('image');
  const clip = findPreset('video');
  if (image.kind !== 'image' || clip.kind !== 'video') throw new Error('unexpected presets');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bare-'));
  const bareImage = await bestOf(RUNS, () =>
    bareSharpLadder(photo, tmp, image.widths, image.quality, image.formats),
  );
  const renditions = computeLadder(
    { displayWidth: 1280, displayHeight: 720 },
    { heights: clip.ladder },
  );
  const settings = {
    preset: clip.x264Preset,
    crf: clip.crf,
    hlsSegmentSeconds: clip.hlsSegmentSeconds,
    audioBitrateKbps: clip.audioBitrateKbps,
  };
  const bareVideo = await bestOf(RUNS, () =>
    runCommand(ffmpeg, plainLadderArgs(video, renditions, tmp, 30, settings)),
  );
  fs.rmSync(tmp, { recursive: true, force: true });

  const app = await benchApp();
  try {
    let n = 0;
    // A new key every run: the same key and bytes would be recognised as already done.
    const pipeImage = await bestOf(RUNS, () =>
      runThroughPipeline(app, photo, `bench/${n++}/photo.jpg`),
    );
    const pipeVideo = await bestOf(RUNS, () =>
      runThroughPipeline(app, video, `bench/${n++}/landscape.mp4`),
    );
    return [
      {
        name: 'image upload -> 12 derivatives + manifest (samples/photo.jpg)',
        value: pipeImage,
        unit: 's',
        baseline: bareImage,
        ratio: pipeImage / bareImage,
        note: 'baseline: bare sharp, same widths/formats/quality',
      },
      {
        name: 'video upload -> 720/480/360 HLS+MP4, thumbnails, manifest (samples/landscape.mp4)',
        value: pipeVideo,
        unit: 's',
        baseline: bareVideo,
        ratio: pipeVideo / bareVideo,
        note: 'baseline: one plain ffmpeg command, same ladder and x264 settings (MP4 only)',
      },
    ];
  } finally {
    await app.dispose();
  }
}

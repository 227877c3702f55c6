import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { resolveBinaries } from '../../functions/ffmpeg/binaries.js';
import { runProcess } from '../../functions/ffmpeg/run-process.js';
import type { Workflow } from '../../pipeline/plan/types.js';
import { defineHandler, type AnyTaskHandler } from '../../pipeline/tasks/handler.js';

/**
 * A one-task `video` workflow whose task runs a real ffmpeg, for tests of what happens to media
 * processes when workers die or stop. A source whose text is `BURN <seconds>` makes ffmpeg
 * encode a synthetic clip in real time (`-re`), so the task lasts that long with little CPU; any
 * other source is decoded as media, which fails permanently with ffmpeg's stderr tail when it is
 * not media.
 */
export const ffmpegWorkflow: Workflow = {
  kind: 'video',
  stageWeights: [1],
  next(_job, done) {
    return done['burn'] ? [] : [{ id: 'burn', kind: 'burn', params: {} }];
  },
};

export const ffmpegHandlers: ReadonlyMap<string, AnyTaskHandler> = new Map<string, AnyTaskHandler>([
  [
    'burn',
    defineHandler({
      kind: 'burn',
      params: z.object({}),
      async run(_p, io) {
        const { ffmpeg } = await resolveBinaries({
          ffmpegPath: io.config.ffmpegPath,
          ffprobePath: io.config.ffprobePath,
        });
        const source = await io.fetchSource();
        const text = fs.readFileSync(source, 'utf8').slice(0, 64);
        const out = path.join(io.ctx.scratchDir, 'burn.mp4');
        const burn = /^BURN (\d+(?:\.\d+)?)/.exec(text);
        const seconds = burn ? Number(burn[1]) : 0;
        const args = burn
          ? [
              '-hide_banner',
              '-nostdin',
              '-re',
              '-f',
              'lavfi',
              '-i',
              `testsrc=size=64x48:rate=10:duration=${seconds}`,
              '-c:v',
              'mpeg4',
              '-progress',
              'pipe:1',
              '-y',
              out,
            ]
          : ['-hide_banner', '-nostdin', '-i', source, '-f', 'null', '-'];
        await runProcess(ffmpeg, args, {
          timeoutMs: io.config.worker.processTimeoutMs,
          signal: io.ctx.signal,
          label: 'ffmpeg burn',
          ...(burn
            ? { progress: { durationSeconds: seconds, onProgress: io.ctx.onProgress } }
            : {}),
        });
        return { outputs: [await io.putOutput('burn.mp4', out, { role: 'mp4' })] };
      },
    }),
  ],
]);

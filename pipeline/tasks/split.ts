import path from 'node:path';
import { z } from 'zod';
import type { MediaInfo } from '../../functions/video/media-info.js';
import { splitVideo } from '../../functions/video/split.js';
import type { SegmentRef } from '../plan/video-results.js';
import { mapConcurrently } from './concurrently.js';
import { defineHandler } from './handler.js';
import { mediaTools } from './media-tools.js';

/** Cuts the source's video into keyframe-aligned pieces and stores them for the transcode tasks. */
export const splitHandler = defineHandler({
  kind: 'split',
  params: z.object({
    media: z.custom<Omit<MediaInfo, 'keyframeTimes'>>((v) => typeof v === 'object' && v !== null),
  }),
  async run({ media }, io) {
    const tools = await mediaTools(io.config);
    const file = await io.fetchSource();
    const result = await splitVideo(
      file,
      media,
      {
        tools,
        segmentSeconds: io.config.video.segmentSeconds,
        maxSegments: io.config.video.maxSegments,
        slots: io.config.video.taskSlots,
      },
      io.ctx,
    );
    const segments = await mapConcurrently(result.segments, async (s): Promise<SegmentRef> => {
      // An unsplit source is not copied again: its transcode task fetches the source itself.
      const name =
        result.mode === 'split'
          ? `seg-${String(s.index).padStart(5, '0')}${path.extname(s.file)}`
          : null;
      if (name) await io.putScratch(name, s.file);
      return {
        index: s.index,
        name,
        format: s.format,
        start: s.start,
        duration: s.duration,
        frameCount: s.frameCount,
        ...(s.timing ? { timing: s.timing } : {}),
      };
    });
    return {
      mode: result.mode,
      ...(result.reason ? { reason: result.reason } : {}),
      duration: result.duration,
      segments,
    };
  },
});

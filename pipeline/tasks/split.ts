import path from 'node:path';
import { splitVideo } from '../../functions/video/split.js';
import type { SegmentRef } from '../plan/video-results.js';
import { mapConcurrently } from './concurrently.js';
import { defineTask } from './handler.js';
import { mediaTools } from './media-tools.js';
import { videoPreset } from './video-preset.js';

/** Cuts the source's video into keyframe-aligned pieces and stores them for the transcode tasks. */
export const splitHandler = defineTask({
  kind: 'split',
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
        prerollSeconds: io.config.video.prerollSeconds,
        alignSeconds: videoPreset(io).hlsSegmentSeconds,
      },
      io.ctx,
    );
    const pieceName = (index: number, file: string) =>
      `seg-${String(index).padStart(5, '0')}${path.extname(file)}`;
    const segments = await mapConcurrently(result.segments, async (s): Promise<SegmentRef> => {
      // An unsplit source is not copied again: its transcode task fetches the source itself.
      const name = result.mode === 'split' ? pieceName(s.index, s.file) : null;
      if (name) await io.putScratch(name, s.file);
      // A lead-in that is the whole previous piece is that piece's own upload.
      const previous = result.segments[s.index - 1];
      let preroll: SegmentRef['preroll'];
      if (s.preroll && previous) {
        const { file, ...rest } = s.preroll;
        const leadName =
          file === previous.file
            ? pieceName(previous.index, previous.file)
            : `lead-${String(s.index).padStart(5, '0')}.nut`;
        if (file !== previous.file) await io.putScratch(leadName, file);
        preroll = { name: leadName, ...rest };
      }
      return {
        ...(preroll ? { preroll } : {}),
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

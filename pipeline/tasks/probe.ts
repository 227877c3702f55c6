import { MediaflowError } from '../../functions/errors.js';
import { codecSets, computeLadder } from '../../functions/video/ladder.js';
import { probe } from '../../functions/video/probe.js';
import { defineTask } from './handler.js';
import { mediaTools } from './media-tools.js';

/** Inspects and validates the source, and decides its rendition ladder. */
export const probeHandler = defineTask({
  kind: 'probe',
  async run(_params, io) {
    const tools = await mediaTools(io.config);
    const file = await io.fetchSource();
    const { keyframeTimes: _unused, ...media } = await probe(
      file,
      { tools, limits: io.config.limits },
      io.ctx,
    );
    if (!media.video && !media.audio)
      throw new MediaflowError('MEDIA_UNSUPPORTED', 'The source has neither video nor audio.');
    const preset = io.job.preset;
    const renditions =
      preset.kind === 'video' && media.video
        ? codecSets(computeLadder(media.video, { heights: preset.ladder }), preset.codecs)
        : [];
    return { media, renditions };
  },
});

import { makeThumbnails } from '../../functions/video/thumbnails.js';
import { defineTask } from './handler.js';
import { mediaTools } from './media-tools.js';
import { videoPreset } from './video-preset.js';

/** A poster, and a sprite sheet with its WebVTT index for scrubbing previews. */
export const thumbnailsHandler = defineTask({
  kind: 'thumbnails',
  async run({ media }, io) {
    const { thumbnails } = videoPreset(io);
    const tools = await mediaTools(io.config);
    const file = await io.fetchSource();
    const made = await makeThumbnails(
      file,
      media,
      {
        tools,
        intervalSeconds: thumbnails.spriteIntervalSeconds,
        thumbWidth: thumbnails.thumbWidth,
        columns: thumbnails.spriteColumns,
        spriteUrl: 'sprite.jpg',
      },
      io.ctx,
    );
    return {
      outputs: [
        await io.putOutput('thumbnails/poster.jpg', made.posterFile, {
          role: 'poster',
          width: made.posterWidth,
          height: made.posterHeight,
        }),
        await io.putOutput('thumbnails/sprite.jpg', made.spriteFile, {
          role: 'sprite',
          width: made.thumbWidth * made.columns,
          height: made.thumbHeight * made.rows,
        }),
        await io.putOutput('thumbnails/sprite.vtt', made.vttFile, { role: 'sprite-index' }),
      ],
    };
  },
});

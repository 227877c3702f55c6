import { encodeAudio } from '../../functions/video/audio.js';
import { defineTask } from './handler.js';
import { mediaTools } from './media-tools.js';
import { videoPreset } from './video-preset.js';

/**
 * Encodes the source's audio once for the whole file (encoding it per segment leaves gaps at the
 * joins), exactly as long as the video the split measured; the merges mux it into every rendition.
 */
export const audioHandler = defineTask({
  kind: 'audio',
  async run({ media, durationSeconds }, io) {
    if (!media.audio) return { audio: null };
    const tools = await mediaTools(io.config);
    const file = await io.fetchSource();
    const encoded = await encodeAudio(
      file,
      media,
      { tools, durationSeconds, bitrate: videoPreset(io).audioBitrateKbps * 1000 },
      io.ctx,
    );
    if (!encoded) return { audio: null };
    await io.putScratch('audio.m4a', encoded.file);
    return { audio: 'audio.m4a' };
  },
});

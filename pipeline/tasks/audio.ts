import { encodeAudio } from '../../functions/video/audio.js';
import { defineTask } from './handler.js';
import { mediaTools } from './media-tools.js';
import { videoPreset } from './video-preset.js';

/**
 * Encodes the source's audio once for the whole file (encoding it per segment leaves gaps at the
 * joins), exactly as long as the video the split measured; the merges mux the first stream into
 * every MP4, and with CMAF packaging every stream becomes its own audio rendition.
 */
export const audioHandler = defineTask({
  kind: 'audio',
  async run({ media, durationSeconds, stream: position = 0 }, io) {
    const stream = media.audioStreams?.[position] ?? (position === 0 ? media.audio : null);
    if (!stream) return { audio: null };
    const tools = await mediaTools(io.config);
    const file = await io.fetchSource();
    const encoded = await encodeAudio(
      file,
      media,
      { tools, durationSeconds, bitrate: videoPreset(io).audioBitrateKbps * 1000, stream },
      io.ctx,
    );
    if (!encoded) return { audio: null };
    const name = position === 0 ? 'audio.m4a' : `audio-${position}.m4a`;
    await io.putScratch(name, encoded.file);
    return { audio: name };
  },
});

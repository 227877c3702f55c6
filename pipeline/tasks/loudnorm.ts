import path from 'node:path';
import { normalizeLoudness } from '../../functions/audio/loudnorm.js';
import { defineTask } from './handler.js';
import { mediaTools } from './media-tools.js';
import { audioPreset } from './audio-preset.js';

/** Loudness-normalised audio outputs (two-pass EBU R128) for audio-only sources. */
export const loudnormHandler = defineTask({
  kind: 'loudnorm',
  async run({ media }, io) {
    const preset = audioPreset(io);
    const tools = await mediaTools(io.config);
    const file = await io.fetchSource();
    const bitrate = preset.bitrateKbps * 1000;
    const result = await normalizeLoudness(
      file,
      media,
      {
        tools,
        targetLufs: preset.loudnessLufs,
        formats: preset.formats,
        bitrates: { aac: bitrate, mp3: bitrate, opus: bitrate },
      },
      io.ctx,
    );
    const outputs = [];
    for (const o of result.outputs) {
      outputs.push(
        await io.putOutput(path.basename(o.file), o.file, {
          role: 'audio',
          format: o.format,
          bitrate: o.bitrate,
        }),
      );
    }
    return { outputs, measured: result.measured, target: result.target };
  },
});

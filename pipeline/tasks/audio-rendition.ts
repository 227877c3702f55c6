import { packageAudioRendition } from '../../functions/video/audio-rendition.js';
import type { AudioRenditionTaskResult } from '../plan/video-results.js';
import { cmafFacts, putCmafRendition } from './cmaf-outputs.js';
import { defineTask } from './handler.js';
import { mediaTools } from './media-tools.js';
import { videoPreset } from './video-preset.js';

/**
 * Packages the audio, encoded once, as its own CMAF rendition (`hls/<name>/`): the master lists it
 * in an EXT-X-MEDIA audio group and the MPD as an audio AdaptationSet.
 */
export const audioRenditionHandler = defineTask({
  kind: 'audio-rendition',
  async run(params, io) {
    const tools = await mediaTools(io.config);
    const file = await io.fetchScratch(params.audio);
    const rendition = await packageAudioRendition(
      file,
      { tools, name: params.name, segmentSeconds: videoPreset(io).hlsSegmentSeconds },
      io.ctx,
    );
    const outputs = await putCmafRendition(io, params.name, rendition);
    const result: AudioRenditionTaskResult = {
      rendition: {
        ...cmafFacts(params.name, rendition),
        bandwidth: rendition.peakBitrate,
        averageBandwidth: rendition.averageBitrate,
        channels: params.channels,
        sampleRate: params.sampleRate,
        language: params.language,
        label: params.label,
      },
      outputs,
    };
    return { ...result };
  },
});

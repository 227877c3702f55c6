import { mergeRendition } from '../../functions/video/merge.js';
import type { OutputRecord } from '../plan/types.js';
import type { Variant } from '../plan/video-results.js';
import { cmafFacts, putCmafRendition } from './cmaf-outputs.js';
import { mapConcurrently } from './concurrently.js';
import { defineTask } from './handler.js';
import { mediaTools } from './media-tools.js';
import { videoPreset } from './video-preset.js';

/**
 * Joins one rendition's encoded pieces with the audio into its MP4 and its HLS outputs (TS with
 * the audio, or CMAF video segments with an I-frame playlist).
 */
export const mergeHandler = defineTask({
  kind: 'merge',
  async run({ rendition, audio, pieces }, io) {
    const preset = videoPreset(io);
    const tools = await mediaTools(io.config);
    const [local, audioFile] = await Promise.all([
      mapConcurrently(pieces, async (piece) => ({
        file: await io.fetchScratch(piece.name),
        duration: piece.duration,
        ...(piece.frameCount ? { frameCount: piece.frameCount } : {}),
        ...(piece.ends ? { ends: piece.ends } : {}),
      })),
      audio ? io.fetchScratch(audio) : null,
    ]);
    const merged = await mergeRendition(
      {
        rendition: rendition.name,
        width: rendition.width,
        height: rendition.height,
        pieces: local,
        audioFile,
        hlsSegmentSeconds: preset.hlsSegmentSeconds,
        packaging: preset.packaging,
      },
      { tools },
      io.ctx,
    );

    const facts = { width: merged.width, height: merged.height };
    const outputs: OutputRecord[] = [];
    const mp4 = preset.mp4
      ? io.putOutput(`mp4/${rendition.name}.mp4`, merged.mp4File, {
          role: 'mp4',
          ...facts,
          durationSeconds: merged.mp4.duration,
          bitrate: Math.round((merged.mp4.bytes * 8) / merged.mp4.duration),
        })
      : undefined;
    if (preset.hls && merged.cmaf) {
      outputs.push(...(await putCmafRendition(io, rendition.name, merged.cmaf, facts)));
    } else if (preset.hls) {
      // Segments first, playlist after: a player that finds the playlist finds every segment.
      outputs.push(
        ...(await mapConcurrently(merged.hlsSegments, (segment) =>
          io.putOutput(`hls/${rendition.name}/${segment.uri}`, segment.file, {
            role: 'hls-segment',
            durationSeconds: segment.duration,
          }),
        )),
      );
      const total = merged.hlsSegments.reduce((sum, s) => sum + s.duration, 0);
      outputs.push(
        await io.putOutput(`hls/${rendition.name}/index.m3u8`, merged.playlistFile, {
          role: 'hls-playlist',
          ...facts,
          durationSeconds: total,
          bitrate: merged.averageBitrate,
        }),
      );
    }
    if (mp4) outputs.unshift(await mp4);
    const variant: Variant = {
      name: rendition.name,
      ...facts,
      bandwidth: merged.peakBitrate,
      averageBandwidth: merged.averageBitrate,
      codecs: merged.codecs,
      frameRate: merged.frameRate ?? 0,
      uri: `${rendition.name}/index.m3u8`,
      ...(merged.cmaf?.iframeBitrate
        ? {
            cmaf: {
              ...cmafFacts(rendition.name, merged.cmaf),
              iframes: {
                uri: `${rendition.name}/iframes.m3u8`,
                bandwidth: merged.cmaf.iframeBitrate.peak,
                averageBandwidth: merged.cmaf.iframeBitrate.average,
              },
            },
          }
        : {}),
    };
    return { variant, outputs, ...(merged.seams ? { seams: merged.seams } : {}) };
  },
});

import { MediaflowError } from '../../functions/errors.js';
import type { CmafRendition } from '../../functions/video/cmaf-rendition.js';
import type { OutputRecord } from '../plan/types.js';
import type { CmafFacts } from '../plan/video-results.js';
import { mapConcurrently } from './concurrently.js';
import type { TaskIO } from './handler.js';

/**
 * Stores a CMAF rendition under `hls/<folder>/`: init and segments first, playlists after, so a
 * player that finds a playlist finds every segment it names.
 */
export async function putCmafRendition(
  io: TaskIO,
  folder: string,
  rendition: CmafRendition,
  facts: Pick<OutputRecord, 'width' | 'height'> = {},
): Promise<OutputRecord[]> {
  const outputs = await mapConcurrently(
    [
      { uri: 'init.mp4', file: rendition.initFile, duration: undefined },
      ...rendition.segments.map((s) => ({ uri: s.uri, file: s.file, duration: s.seconds })),
    ],
    (s) =>
      io.putOutput(`hls/${folder}/${s.uri}`, s.file, {
        role: s.duration === undefined ? 'cmaf-init' : 'cmaf-segment',
        ...(s.duration === undefined ? {} : { durationSeconds: s.duration }),
      }),
  );
  const total = rendition.segments.reduce((sum, s) => sum + s.seconds, 0);
  outputs.push(
    await io.putOutput(`hls/${folder}/index.m3u8`, rendition.playlistFile, {
      role: 'hls-playlist',
      ...facts,
      durationSeconds: total,
      bitrate: rendition.averageBitrate,
    }),
  );
  if (rendition.iframesFile)
    outputs.push(
      await io.putOutput(`hls/${folder}/iframes.m3u8`, rendition.iframesFile, {
        role: 'hls-iframes',
        ...facts,
        durationSeconds: total,
      }),
    );
  return outputs;
}

/** The track facts the master playlist and the MPD are written from. */
export function cmafFacts(folder: string, rendition: CmafRendition): CmafFacts {
  rendition.segments.forEach((s, i) => {
    // The MPD names segments by number: the files must be exactly seg-00000.m4s, seg-00001.m4s...
    if (s.uri !== `seg-${String(i).padStart(5, '0')}.m4s`)
      throw new MediaflowError(
        'FFMPEG_FAILED',
        `Expected segment ${i} of ${folder} to be numbered, found ${s.uri}`,
      );
  });
  return {
    folder,
    codec: rendition.codec,
    timescale: rendition.timescale,
    segments: rendition.segments.map((s) => ({ t: s.decodeTime, d: s.duration })),
  };
}

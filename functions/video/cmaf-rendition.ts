import fs from 'node:fs/promises';
import path from 'node:path';
import { MediaflowError } from '../errors.js';
import { buildMediaPlaylist, hlsBitrates } from './cmaf-playlists.js';
import { readInit, readSegment, type SegmentFacts } from './fmp4-boxes.js';
import { parseMediaPlaylist } from './hls-playlist.js';

/** One CMAF segment of a rendition, measured. */
export interface CmafSegment extends SegmentFacts {
  uri: string;
  file: string;
  /** Seconds, from the sample table. */
  seconds: number;
}

/** A CMAF rendition folder (init, segments, media playlist, I-frame playlist for video). */
export interface CmafRendition {
  dir: string;
  initFile: string;
  /** RFC 6381 codec string read from the init segment's sample entry. */
  codec: string;
  timescale: number;
  segments: CmafSegment[];
  playlistFile: string;
  /** Video only: the I-frame playlist (byte ranges into the same segments). */
  iframesFile: string | null;
  peakBitrate: number;
  averageBitrate: number;
  iframeBitrate: { peak: number; average: number } | null;
}

/**
 * Measures what ffmpeg's HLS muxer wrote in `dir` (its playlist `ffmpegPlaylist` names the
 * segments), checks every video segment starts with a sync sample, and writes `index.m3u8` (and
 * `iframes.m3u8` for video) from the segments' own sample tables. The muxer's playlist is removed.
 */
export async function finishCmafRendition(
  dir: string,
  ffmpegPlaylist: string,
  label: string,
): Promise<CmafRendition> {
  const listed = parseMediaPlaylist(await fs.readFile(ffmpegPlaylist, 'utf8'));
  await fs.rm(ffmpegPlaylist, { force: true });
  const initFile = path.join(dir, 'init.mp4');
  const init = await readInit(initFile).catch((error: Error) => {
    throw new MediaflowError('FFMPEG_FAILED', `The ${label} init segment: ${error.message}`);
  });
  if (!init.codec)
    throw new MediaflowError('FFMPEG_FAILED', `The ${label} init segment names no known codec.`);
  const video = init.handler === 'vide';
  const segments = await Promise.all(
    listed.segments.map(async (s): Promise<CmafSegment> => {
      if (s.uri.includes('/'))
        throw new MediaflowError(
          'FFMPEG_FAILED',
          `A ${label} segment outside its folder: ${s.uri}`,
        );
      const file = path.join(dir, s.uri);
      const facts = await readSegment(file, init);
      if (video && !facts.startsWithSync)
        throw new MediaflowError(
          'FFMPEG_FAILED',
          `The ${label} segment ${s.uri} does not start with a keyframe.`,
        );
      return { ...facts, uri: s.uri, file, seconds: facts.duration / init.timescale };
    }),
  );
  const playlistFile = path.join(dir, 'index.m3u8');
  await fs.writeFile(
    playlistFile,
    buildMediaPlaylist({
      initUri: 'init.mp4',
      segments: segments.map((s) => ({ uri: s.uri, duration: s.seconds })),
    }),
  );
  let iframesFile: string | null = null;
  let iframeBitrate: CmafRendition['iframeBitrate'] = null;
  if (video) {
    iframesFile = path.join(dir, 'iframes.m3u8');
    await fs.writeFile(
      iframesFile,
      buildMediaPlaylist({
        initUri: 'init.mp4',
        iFramesOnly: true,
        segments: segments.map((s) => ({ uri: s.uri, duration: s.seconds, byteRange: s.iframe })),
      }),
    );
    iframeBitrate = hlsBitrates(
      segments.map((s) => ({ duration: s.seconds, bytes: s.iframe.length })),
    );
  }
  const { peak, average } = hlsBitrates(
    segments.map((s) => ({ duration: s.seconds, bytes: s.bytes })),
  );
  return {
    dir,
    initFile,
    codec: init.codec,
    timescale: init.timescale,
    segments,
    playlistFile,
    iframesFile,
    peakBitrate: peak,
    averageBitrate: average,
    iframeBitrate,
  };
}

/** A rendition name, which names files and folders: letters, digits, `_` and `-` only. */
export function safeName(name: string): string {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(name))
    throw new RangeError(
      `Expected a rendition name of letters, digits, _ and - but received ${JSON.stringify(name)}`,
    );
  return name;
}

import { MediaflowError } from '../errors.js';

/** A media playlist as ffmpeg's HLS muxer writes it: what merge needs for bitrates and checks. */
export interface MediaPlaylist {
  version: number | null;
  targetDuration: number | null;
  segments: Array<{ uri: string; duration: number }>;
  endList: boolean;
}

/**
 * Parses the few tags of a VOD media playlist. Pure. The playlist is ffmpeg's own output, so one it
 * cannot read is an ffmpeg failure (FFMPEG_FAILED), not bad input.
 */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines[0] !== '#EXTM3U')
    throw new MediaflowError('FFMPEG_FAILED', 'not an M3U playlist: the first line is not #EXTM3U');
  const playlist: MediaPlaylist = {
    version: null,
    targetDuration: null,
    segments: [],
    endList: false,
  };
  let pending: number | null = null;
  for (const line of lines.slice(1)) {
    if (line.startsWith('#EXT-X-VERSION:')) playlist.version = Number(line.slice(15));
    else if (line.startsWith('#EXT-X-TARGETDURATION:'))
      playlist.targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXTINF:')) pending = Number(line.slice(8).split(',')[0]);
    else if (line === '#EXT-X-ENDLIST') playlist.endList = true;
    else if (!line.startsWith('#')) {
      if (pending === null || !Number.isFinite(pending))
        throw new MediaflowError('FFMPEG_FAILED', `segment ${line} has no #EXTINF duration`);
      playlist.segments.push({ uri: line, duration: pending });
      pending = null;
    }
  }
  return playlist;
}

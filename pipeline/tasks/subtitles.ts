import fs from 'node:fs/promises';
import path from 'node:path';
import { buildSubtitlePlaylist } from '../../functions/video/cmaf-playlists.js';
import { renditionLabel } from '../../functions/video/language.js';
import { extractWebVtt } from '../../functions/video/subtitles.js';
import type { OutputRecord } from '../plan/types.js';
import { defineTask } from './handler.js';
import { mediaTools } from './media-tools.js';

/**
 * Every text subtitle stream becomes a WebVTT rendition under `hls/subs-N/` (the file, and a
 * playlist naming it as one segment as long as the video). Bitmap subtitles (PGS, DVB, DVD)
 * cannot become WebVTT without OCR: they are reported as skipped, with the reason, in the
 * manifest.
 */
export const subtitlesHandler = defineTask({
  kind: 'subtitles',
  async run({ media, durationSeconds }, io) {
    const streams = media.subtitleStreams ?? [];
    const skipped = streams
      .filter((s) => !s.text)
      .map((s) => ({
        stream: s.index,
        codec: s.codec,
        reason: 'bitmap subtitles cannot become WebVTT text (no OCR)',
      }));
    const text = streams.filter((s) => s.text);
    if (text.length === 0) return { subtitles: [], skipped, outputs: [] };
    const tools = await mediaTools(io.config);
    const file = await io.fetchSource();
    const outputs: OutputRecord[] = [];
    const subtitles = [];
    for (const [position, stream] of text.entries()) {
      const folder = `subs-${position}`;
      const vtt = await extractWebVtt(file, media, stream, { tools }, io.ctx);
      const playlist = path.join(io.ctx.scratchDir, `${folder}.m3u8`);
      await fs.writeFile(playlist, buildSubtitlePlaylist('subs.vtt', durationSeconds));
      const { size } = await fs.stat(vtt);
      outputs.push(
        await io.putOutput(`hls/${folder}/subs.vtt`, vtt, { role: 'subtitles' }),
        await io.putOutput(`hls/${folder}/index.m3u8`, playlist, {
          role: 'hls-playlist',
          durationSeconds,
        }),
      );
      subtitles.push({
        folder,
        language: stream.language,
        label: renditionLabel(stream, position, 'Subtitles'),
        bandwidth: Math.ceil((size * 8) / durationSeconds),
      });
    }
    io.ctx.onProgress(1);
    return { subtitles, skipped, outputs };
  },
});

import fs from 'node:fs/promises';
import path from 'node:path';
import { buildMpd, type DashAdaptationSet } from '../../functions/video/dash-mpd.js';
import {
  buildMasterPlaylist,
  type MasterMedia,
  type MasterVariant,
} from '../../functions/video/master-playlist.js';
import type { OutputRecord } from '../plan/types.js';
import type { AudioRendition, Variant } from '../plan/video-results.js';
import {
  CODEC_PREFERENCE,
  codecOfString,
  variantScore,
} from '../../functions/video/video-codecs.js';
import { defineTask } from './handler.js';
import { videoPreset } from './video-preset.js';

const AUDIO_GROUP = 'audio';
const SUBTITLES_GROUP = 'subs';

/**
 * Writes the HLS master playlist over every rendition, and with CMAF packaging the DASH MPD over
 * the same segments (both in code, from the facts the merges measured).
 */
export const masterHandler = defineTask({
  kind: 'master',
  async run({ variants, audio, subtitles }, io) {
    const preset = videoPreset(io);
    if (!preset.hls) return { outputs: [] };
    const cmaf = variants.every((v) => v.cmaf);
    const ranking = codecRanking(variants);
    const text = cmaf
      ? buildMasterPlaylist(
          variants.map((v) => ({
            ...cmafVariant(v, audio),
            ...ranking(v),
            ...(subtitles.length ? { subtitlesGroup: SUBTITLES_GROUP } : {}),
          })),
          {
            media: [
              ...audio.map(
                (a, i): MasterMedia => ({
                  type: 'AUDIO',
                  groupId: AUDIO_GROUP,
                  name: a.label,
                  ...(a.language ? { language: a.language } : {}),
                  isDefault: i === 0,
                  channels: a.channels,
                  uri: `${a.folder}/index.m3u8`,
                }),
              ),
              ...subtitles.map(
                (t): MasterMedia => ({
                  type: 'SUBTITLES',
                  groupId: SUBTITLES_GROUP,
                  name: t.label,
                  ...(t.language ? { language: t.language } : {}),
                  isDefault: false,
                  uri: `${t.folder}/index.m3u8`,
                }),
              ),
            ],
          },
        )
      : buildMasterPlaylist(variants.map((v) => ({ ...v, frameRate: v.frameRate || null })));
    const file = path.join(io.ctx.scratchDir, 'master.m3u8');
    await fs.writeFile(file, text);
    const outputs: OutputRecord[] = [
      await io.putOutput('hls/master.m3u8', file, { role: 'hls-master' }),
    ];
    if (cmaf && preset.dash) {
      const mpd = path.join(io.ctx.scratchDir, 'manifest.mpd');
      await fs.writeFile(
        mpd,
        buildMpd({
          ...mpdOptions(variants, audio),
          textSets: subtitles.map((t) => ({
            id: t.folder,
            url: `${t.folder}/subs.vtt`,
            bandwidth: t.bandwidth,
            label: t.label,
            ...(t.language ? { lang: t.language } : {}),
          })),
        }),
      );
      const durationSeconds = presentationSeconds(variants);
      outputs.push(
        await io.putOutput('hls/manifest.mpd', mpd, { role: 'dash-manifest', durationSeconds }),
      );
    }
    return { outputs };
  },
});

/**
 * A CMAF variant: its video plays with the audio group, so BANDWIDTH adds the loudest audio
 * rendition's peak (what a player must fetch at once) and CODECS names both.
 */
function cmafVariant(v: Variant, audio: AudioRendition[]): MasterVariant {
  const facts = v.cmaf!;
  const peakAudio = Math.max(0, ...audio.map((a) => a.bandwidth));
  const averageAudio = Math.max(0, ...audio.map((a) => a.averageBandwidth));
  const audioCodecs = [...new Set(audio.map((a) => a.codec))];
  return {
    uri: v.uri,
    bandwidth: v.bandwidth + peakAudio,
    averageBandwidth: v.averageBandwidth + averageAudio,
    width: v.width,
    height: v.height,
    codecs: [facts.codec, ...audioCodecs].join(','),
    frameRate: v.frameRate || null,
    ...(audio.length ? { audioGroup: AUDIO_GROUP } : {}),
    iframes: { ...facts.iframes, codecs: facts.codec },
  };
}

/**
 * With more than one codec set, each variant's listing preference and SCORE (see
 * `video-codecs.ts`); nothing for a single set, whose master stays as it was.
 */
function codecRanking(variants: readonly Variant[]) {
  const sets = new Set(variants.map((v) => codecOfString(v.codecs)));
  const sizes = [...new Set(variants.map((v) => v.width * v.height))].sort((a, b) => a - b);
  return (v: Variant): { preference?: number; score?: number } => {
    if (sets.size < 2) return {};
    const codec = codecOfString(v.codecs);
    const rank = sizes.indexOf(v.width * v.height) + 1;
    return { preference: CODEC_PREFERENCE[codec], score: variantScore(rank, codec) };
  };
}

function presentationSeconds(variants: Variant[]): number {
  return Math.max(
    ...variants.map((v) => {
      const { segments, timescale } = v.cmaf!;
      const last = segments[segments.length - 1]!;
      return (last.t + last.d - segments[0]!.t) / timescale;
    }),
  );
}

function mpdOptions(variants: Variant[], audio: AudioRendition[]) {
  // One video AdaptationSet per codec set, the most efficient first: a player picks the first set
  // whose codec it decodes, then adapts within it.
  const codecs = [...new Set(variants.map((v) => codecOfString(v.codecs)))].sort(
    (a, b) => CODEC_PREFERENCE[b] - CODEC_PREFERENCE[a],
  );
  const video = codecs.map(
    (codec): DashAdaptationSet => ({
      contentType: 'video',
      representations: variants
        .filter((v) => codecOfString(v.codecs) === codec)
        .sort((a, b) => a.bandwidth - b.bandwidth)
        .map((v) => ({
          id: v.cmaf!.folder,
          codecs: v.cmaf!.codec,
          bandwidth: v.bandwidth,
          timescale: v.cmaf!.timescale,
          segments: v.cmaf!.segments,
          width: v.width,
          height: v.height,
          frameRate: v.frameRate || null,
        })),
    }),
  );
  const sets: DashAdaptationSet[] = [
    ...video,
    ...audio.map(
      (a, i): DashAdaptationSet => ({
        contentType: 'audio',
        ...(a.language ? { lang: a.language } : {}),
        label: a.label,
        main: i === 0,
        representations: [
          {
            id: a.folder,
            codecs: a.codec,
            bandwidth: a.bandwidth,
            timescale: a.timescale,
            segments: a.segments,
            sampleRate: a.sampleRate,
            channels: a.channels,
          },
        ],
      }),
    ),
  ];
  return { durationSeconds: presentationSeconds(variants), adaptationSets: sets };
}

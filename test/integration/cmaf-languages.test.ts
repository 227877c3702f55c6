import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Binaries } from '../../functions/ffmpeg/binaries.js';
import type { App } from '../../pipeline/app.js';
import type { JobRecord } from '../../pipeline/jobs/job.js';
import { downloadOutputs, startEmbeddedApp, submitAndWait } from '../helpers/embedded-app.js';
import { appleRuleViolations, readHlsTree } from '../helpers/hls-rules.js';
import { ffmpeg, testTools } from '../helpers/video-fixtures.js';

/**
 * Every audio stream becomes its own rendition. The source: 3 s of a real clip from the corpus
 * (or testsrc2 without the corpus) in Matroska, with two generated audio tracks (an English tone,
 * a French near-silence titled "Commentaire") and a text subtitle stream that must not disturb.
 */
const CLIP = path.resolve(
  '.cache/corpus/root/usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4',
);

let app: App & { dataDir: string };
let bin: Binaries;
let job: JobRecord;
let out: string;

beforeAll(async () => {
  bin = (await testTools()).binaries;
  app = await startEmbeddedApp();
  const srt = path.join(app.dataDir, 'subs.srt');
  fs.writeFileSync(srt, '1\n00:00:00,500 --> 00:00:02,000\nBonjour\n');
  const source = path.join(app.dataDir, 'languages.mkv');
  const video = fs.existsSync(CLIP)
    ? ['-t', '3', '-i', CLIP]
    : ['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=25:d=3'];
  ffmpeg(bin, [
    ...video,
    '-f',
    'lavfi',
    '-i',
    'sine=f=440:sample_rate=48000:d=3',
    '-f',
    'lavfi',
    '-i',
    'sine=f=660:sample_rate=48000:d=3,volume=0.001',
    '-i',
    srt,
    '-map',
    '0:v:0',
    '-map',
    '1:a',
    '-map',
    '2:a',
    '-map',
    '3:s',
    '-vf',
    'scale=320:180',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-c:a',
    'aac',
    '-c:s',
    'srt',
    '-metadata:s:a:0',
    'language=eng',
    '-metadata:s:a:1',
    'language=fre',
    '-metadata:s:a:1',
    'title=Commentaire',
    '-metadata:s:s:0',
    'language=fre',
    source,
  ]);
  job = await submitAndWait(app, 'lang/source.mkv', fs.readFileSync(source), 'video-sd');
  out = path.join(app.dataDir, 'out');
  await downloadOutputs(app, job, out);
});

afterAll(async () => {
  await app?.close();
});

/** Mean volume (dB) of an audio rendition, decoded through its playlist. */
function meanVolume(playlist: string): number {
  const { stderr } = spawnSync(
    bin.ffmpeg,
    ['-hide_banner', '-i', playlist, '-af', 'volumedetect', '-f', 'null', '-'],
    { encoding: 'utf8', env: { ...process.env, ...bin.env } },
  );
  return Number(/mean_volume: (-?[0-9.]+)/.exec(stderr)?.[1] ?? Number.NaN);
}

describe('audio languages as renditions', () => {
  it('lists one audio rendition per stream, with LANGUAGE, NAME and DEFAULT on the first', () => {
    expect(job.state, `${job.error?.code} ${job.error?.message}`).toBe('succeeded');
    const master = path.join(out, 'hls/master.m3u8');
    expect(appleRuleViolations(bin, master, { audio: true })).toEqual([]);
    const variant = readHlsTree(master).master.variants.find((v) => !v.isIFrameOnly)!;
    expect(
      variant.audio.map((a) => ({
        language: a.language,
        name: a.name,
        isDefault: a.isDefault,
        uri: a.uri,
      })),
    ).toEqual([
      { language: 'en', name: 'English', isDefault: true, uri: 'audio-0/index.m3u8' },
      { language: 'fr', name: 'Commentaire', isDefault: false, uri: 'audio-1/index.m3u8' },
    ]);
  });

  it('keeps each stream in its own rendition, in the MPD too', () => {
    expect(meanVolume(path.join(out, 'hls/audio-0/index.m3u8'))).toBeGreaterThan(-30);
    expect(meanVolume(path.join(out, 'hls/audio-1/index.m3u8'))).toBeLessThan(-50);
    const mpd = fs.readFileSync(path.join(out, 'hls/manifest.mpd'), 'utf8');
    expect(mpd.match(/<AdaptationSet [^>]*contentType="audio"[^>]*>/g)).toEqual([
      expect.stringContaining('lang="en"'),
      expect.stringContaining('lang="fr"'),
    ]);
    expect(mpd).toContain('<Label>Commentaire</Label>');
  });

  it('makes the text subtitle stream a WebVTT rendition in HLS and DASH', () => {
    const { master } = readHlsTree(path.join(out, 'hls/master.m3u8'));
    const variant = master.variants.find((v) => !v.isIFrameOnly)!;
    expect(
      variant.subtitles.map((t) => ({ language: t.language, name: t.name, uri: t.uri })),
    ).toEqual([{ language: 'fr', name: 'French', uri: 'subs-0/index.m3u8' }]);
    const vtt = fs.readFileSync(path.join(out, 'hls/subs-0/subs.vtt'), 'utf8');
    expect(vtt.split('\n').slice(0, 2)).toEqual([
      'WEBVTT',
      'X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000',
    ]);
    expect(vtt).toContain('00:00.500 --> 00:02.000\nBonjour');
    const mpd = fs.readFileSync(path.join(out, 'hls/manifest.mpd'), 'utf8');
    expect(mpd).toMatch(/<AdaptationSet [^>]*contentType="text" mimeType="text\/vtt" lang="fr">/);
    expect(mpd).toContain('<BaseURL>subs-0/subs.vtt</BaseURL>');
  });
});

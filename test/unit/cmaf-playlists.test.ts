import * as HLS from 'hls-parser';
import { describe, expect, it } from 'vitest';
import {
  buildMediaPlaylist,
  buildSubtitlePlaylist,
  playlistVersion,
  targetDuration,
} from '../../functions/video/cmaf-playlists.js';
import { buildMpd, timelineEntries } from '../../functions/video/dash-mpd.js';
import { languageTag, renditionLabel } from '../../functions/video/language.js';
import { buildMasterPlaylist } from '../../functions/video/master-playlist.js';
import { parseFfprobeJson } from '../../functions/video/media-info.js';
import { withTimestampMap } from '../../functions/video/subtitles.js';

HLS.setOptions({ strictMode: true, silent: true });

describe('CMAF playlists', () => {
  it('computes EXT-X-VERSION from the features used (RFC 8216, section 7)', () => {
    const none = { floatDurations: false, byteRanges: false, iFramesOnly: false, map: false };
    expect(playlistVersion(none)).toBe(1);
    expect(playlistVersion({ ...none, floatDurations: true })).toBe(3);
    expect(playlistVersion({ ...none, byteRanges: true })).toBe(4);
    expect(playlistVersion({ ...none, iFramesOnly: true, map: true })).toBe(5);
    expect(playlistVersion({ ...none, map: true })).toBe(6);
  });

  it('rounds TARGETDURATION to the nearest integer, not up', () => {
    expect(targetDuration([4, 4.4, 2])).toBe(4);
    expect(targetDuration([4, 4.5])).toBe(5);
    expect(targetDuration([0.2])).toBe(1);
  });

  it('writes media and I-frame playlists the strict parser accepts', () => {
    const segments = [
      { uri: 'seg-00000.m4s', duration: 4.4, byteRange: { offset: 76, length: 900 } },
      { uri: 'seg-00001.m4s', duration: 1, byteRange: { offset: 76, length: 700 } },
    ];
    const media = HLS.parse(
      buildMediaPlaylist({
        initUri: 'init.mp4',
        segments: segments.map(({ byteRange, ...s }) => s),
      }),
    ) as HLS.types.MediaPlaylist;
    expect(media).toMatchObject({ version: 6, targetDuration: 4, endlist: true });
    expect(media.segments.map((s) => s.map.uri)).toEqual(['init.mp4', 'init.mp4']);
    const iframes = HLS.parse(
      buildMediaPlaylist({ initUri: 'init.mp4', segments, iFramesOnly: true }),
    ) as HLS.types.MediaPlaylist;
    expect(iframes).toMatchObject({ version: 5, isIFrame: true });
    expect(iframes.segments[1]!.byterange).toEqual({ offset: 76, length: 700 });
    expect(() =>
      buildMediaPlaylist({
        initUri: 'init.mp4',
        segments: [{ uri: 'a', duration: 1 }],
        iFramesOnly: true,
      }),
    ).toThrow('byte range');
    expect(() =>
      buildMediaPlaylist({ initUri: '../init.mp4', segments: [{ uri: 'a', duration: 1 }] }),
    ).toThrow('file name');
  });

  it('lists audio renditions, variants and I-frame playlists in a valid master', () => {
    const text = buildMasterPlaylist(
      [
        {
          uri: '720p/index.m3u8',
          bandwidth: 3e6,
          averageBandwidth: 2e6,
          width: 1280,
          height: 720,
          codecs: 'avc1.64001F,mp4a.40.2',
          frameRate: 25,
          audioGroup: 'audio',
          videoRange: 'SDR',
          iframes: {
            uri: '720p/iframes.m3u8',
            bandwidth: 3e5,
            averageBandwidth: 2e5,
            codecs: 'avc1.64001F',
          },
        },
      ],
      {
        media: [
          {
            type: 'AUDIO',
            groupId: 'audio',
            name: `English "main"`,
            language: 'en',
            isDefault: true,
            channels: 2,
            uri: 'audio-0/index.m3u8',
          },
        ],
      },
    );
    const master = HLS.parse(text) as HLS.types.MasterPlaylist;
    const [variant, iframe] = master.variants;
    expect(variant).toMatchObject({ videoRange: 'SDR', codecs: 'avc1.64001F,mp4a.40.2' });
    expect(variant!.audio[0]).toMatchObject({ language: 'en', isDefault: true, channels: '2' });
    expect(variant!.audio[0]!.name).toBe('English \u201dmain\u201d');
    expect(iframe).toMatchObject({
      isIFrameOnly: true,
      uri: '720p/iframes.m3u8',
      bandwidth: 300000,
    });
  });
});

describe('DASH MPD', () => {
  it('folds equal segments into SegmentTimeline runs', () => {
    expect(
      timelineEntries([
        { t: 0, d: 10 },
        { t: 10, d: 10 },
        { t: 20, d: 10 },
        { t: 30, d: 4 },
      ]),
    ).toEqual(['<S t="0" d="10" r="2"/>', '<S t="30" d="4"/>']);
  });

  it('writes one AdaptationSet per media type with templates over the segment folders', () => {
    const mpd = buildMpd({
      durationSeconds: 5,
      adaptationSets: [
        {
          contentType: 'video',
          representations: [
            {
              id: '360p',
              codecs: 'avc1.64001E',
              bandwidth: 5e5,
              timescale: 12800,
              segments: [
                { t: 0, d: 51200 },
                { t: 51200, d: 12800 },
              ],
              width: 640,
              height: 360,
              frameRate: 30000 / 1001,
            },
          ],
        },
        {
          contentType: 'audio',
          lang: 'en',
          label: 'English',
          main: true,
          representations: [
            {
              id: 'audio-0',
              codecs: 'mp4a.40.2',
              bandwidth: 128000,
              timescale: 48000,
              segments: [{ t: 0, d: 240000 }],
              sampleRate: 48000,
              channels: 2,
            },
          ],
        },
      ],
    });
    expect(mpd).toContain('mediaPresentationDuration="PT5.000S" minBufferTime="PT5.000S"');
    expect(mpd).toContain('frameRate="30000/1001"');
    expect(mpd).toContain('media="360p/seg-$Number%05d$.m4s" startNumber="0"');
    expect(mpd).toContain('lang="en"');
    expect(mpd).toContain('<Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>');
    expect(() =>
      buildMpd({
        durationSeconds: 1,
        adaptationSets: [
          {
            contentType: 'video',
            representations: [
              { id: '../x', codecs: 'a', bandwidth: 1, timescale: 1, segments: [{ t: 0, d: 1 }] },
            ],
          },
        ],
      }),
    ).toThrow('folder name');
  });
});

describe('rendition languages and names', () => {
  it('canonicalises container language tags to RFC 5646', () => {
    expect(['eng', 'fre', 'ger', 'pt-BR', 'und', '', 'x?'].map((t) => languageTag(t))).toEqual([
      'en',
      'fr',
      'de',
      'pt-BR',
      null,
      null,
      null,
    ]);
  });
  it('names a rendition by its title, else its language, else by position', () => {
    expect(renditionLabel({ language: 'fr', title: 'Commentaire' }, 1)).toBe('Commentaire');
    expect(renditionLabel({ language: 'de' }, 1)).toBe('German');
    expect(renditionLabel({ language: null }, 0)).toBe('Audio');
    expect(renditionLabel({}, 2)).toBe('Audio 3');
  });
});

describe('subtitle streams', () => {
  it('tells text subtitles from bitmap ones, and maps WebVTT to media time 0', () => {
    const info = parseFfprobeJson(
      {
        format: { format_name: 'matroska,webm', duration: '3' },
        streams: [
          { index: 0, codec_type: 'video', codec_name: 'h264', width: 64, height: 64 },
          { index: 1, codec_type: 'subtitle', codec_name: 'subrip', tags: { language: 'fre' } },
          { index: 2, codec_type: 'subtitle', codec_name: 'hdmv_pgs_subtitle' },
        ],
      },
      1000,
    );
    expect(info.subtitleStreams).toEqual([
      { index: 1, codec: 'subrip', language: 'fr', title: null, text: true },
      { index: 2, codec: 'hdmv_pgs_subtitle', language: null, title: null, text: false },
    ]);
    expect(withTimestampMap('WEBVTT\n\n00:00.500 --> 00:01.000\nhi\n')).toBe(
      'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n00:00.500 --> 00:01.000\nhi\n',
    );
    const playlist = HLS.parse(buildSubtitlePlaylist('subs.vtt', 12.4)) as HLS.types.MediaPlaylist;
    expect(playlist).toMatchObject({ targetDuration: 12, endlist: true });
  });
});

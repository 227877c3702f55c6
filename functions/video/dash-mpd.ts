/**
 * A static DASH MPD (ISO BMFF live profile: SegmentTemplate with a SegmentTimeline) over the same
 * CMAF segments the HLS master serves, written from measured facts: every segment's decode time
 * and duration in its track's timescale, read from the fragments. Pure.
 */

export interface DashSegment {
  /** Decode time and duration in `timescale` ticks. */
  t: number;
  d: number;
}

export interface DashRepresentation {
  /** Also the folder (relative to the MPD) holding `init.mp4` and `seg-NNNNN.m4s`. */
  id: string;
  codecs: string;
  /** Bits per second (peak segment rate). */
  bandwidth: number;
  timescale: number;
  segments: readonly DashSegment[];
  width?: number;
  height?: number;
  frameRate?: number | null;
  sampleRate?: number;
  channels?: number;
}

export interface DashAdaptationSet {
  contentType: 'video' | 'audio';
  /** BCP 47 language, audio only. */
  lang?: string;
  label?: string;
  /** Marks the default audio (DASH Role `main`). */
  main?: boolean;
  representations: readonly DashRepresentation[];
}

/** A WebVTT subtitle track: one file for the whole presentation. */
export interface DashTextSet {
  id: string;
  /** Relative to the MPD. */
  url: string;
  bandwidth: number;
  lang?: string;
  label?: string;
}

export interface MpdOptions {
  durationSeconds: number;
  adaptationSets: readonly DashAdaptationSet[];
  textSets?: readonly DashTextSet[];
}

const SAFE_ID = /^[A-Za-z0-9_-]+$/;
const CHANNELS_SCHEME = 'urn:mpeg:dash:23003:3:audio_channel_configuration:2011';
const ROLE_SCHEME = 'urn:mpeg:dash:role:2011';

/** ISO 8601 duration with millisecond precision (`PT12.345S`). */
export function isoDuration(seconds: number): string {
  return `PT${Math.max(0, seconds).toFixed(3)}S`;
}

/** SegmentTimeline `S` entries, runs of equal durations folded into `r`. */
export function timelineEntries(segments: readonly DashSegment[]): string[] {
  const entries: string[] = [];
  let run: { t: number; d: number; r: number } | null = null;
  let expected = Number.NaN;
  const flush = () => {
    if (run) entries.push(`<S t="${run.t}" d="${run.d}"${run.r > 0 ? ` r="${run.r}"` : ''}/>`);
  };
  for (const s of segments) {
    if (run && s.d === run.d && s.t === expected) run.r += 1;
    else {
      flush();
      run = { t: s.t, d: s.d, r: 0 };
    }
    expected = s.t + s.d;
  }
  flush();
  return entries;
}

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function representation(rep: DashRepresentation): string[] {
  if (!SAFE_ID.test(rep.id))
    throw new RangeError(`Expected a folder name for a representation id but received ${rep.id}`);
  if (rep.segments.length === 0)
    throw new RangeError(`Expected segments for representation ${rep.id} but received none`);
  const attributes = [
    `id="${rep.id}"`,
    `codecs="${escapeXml(rep.codecs)}"`,
    `bandwidth="${Math.ceil(rep.bandwidth)}"`,
  ];
  if (rep.width && rep.height) attributes.push(`width="${rep.width}"`, `height="${rep.height}"`);
  if (rep.frameRate) attributes.push(`frameRate="${frameRateText(rep.frameRate)}"`);
  if (rep.sampleRate) attributes.push(`audioSamplingRate="${rep.sampleRate}"`);
  const lines = [`      <Representation ${attributes.join(' ')}>`];
  if (rep.channels)
    lines.push(
      `        <AudioChannelConfiguration schemeIdUri="${CHANNELS_SCHEME}"` +
        ` value="${rep.channels}"/>`,
    );
  lines.push(
    `        <SegmentTemplate timescale="${rep.timescale}" initialization="${rep.id}/init.mp4"` +
      ` media="${rep.id}/seg-$Number%05d$.m4s" startNumber="0">`,
    '          <SegmentTimeline>',
    ...timelineEntries(rep.segments).map((s) => `            ${s}`),
    '          </SegmentTimeline>',
    '        </SegmentTemplate>',
    '      </Representation>',
  );
  return lines;
}

/** Frame rate as DASH writes it: an integer, or a fraction for NTSC rates (30000/1001). */
function frameRateText(fps: number): string {
  if (Math.abs(fps - Math.round(fps)) < 0.001) return String(Math.round(fps));
  const ntsc = Math.round(fps * 1.001);
  if (Math.abs(fps - ntsc / 1.001) < 0.001) return `${ntsc * 1000}/1001`;
  return `${Math.round(fps * 1000)}/1000`;
}

export function buildMpd(options: MpdOptions): string {
  if (options.adaptationSets.length === 0)
    throw new RangeError('Expected at least one adaptation set but received none');
  const maxSegment = Math.max(
    ...options.adaptationSets.flatMap((a) =>
      a.representations.flatMap((r) => r.segments.map((s) => s.d / r.timescale)),
    ),
  );
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011"' +
      ` type="static" mediaPresentationDuration="${isoDuration(options.durationSeconds)}"` +
      ` minBufferTime="${isoDuration(Math.ceil(maxSegment))}">`,
    '  <Period id="0" start="PT0S">',
  ];
  options.adaptationSets.forEach((set, index) => {
    const attributes = [
      `id="${index}"`,
      `contentType="${set.contentType}"`,
      `mimeType="${set.contentType}/mp4"`,
      'segmentAlignment="true"',
      'startWithSAP="1"',
    ];
    if (set.lang) attributes.push(`lang="${escapeXml(set.lang)}"`);
    lines.push(`    <AdaptationSet ${attributes.join(' ')}>`);
    if (set.label) lines.push(`      <Label>${escapeXml(set.label)}</Label>`);
    if (set.contentType === 'audio')
      lines.push(
        `      <Role schemeIdUri="${ROLE_SCHEME}" value="${set.main ? 'main' : 'alternate'}"/>`,
      );
    for (const rep of set.representations) lines.push(...representation(rep));
    lines.push('    </AdaptationSet>');
  });
  (options.textSets ?? []).forEach((text, i) => {
    if (!SAFE_ID.test(text.id) || !/^[A-Za-z0-9_./-]+$/.test(text.url) || text.url.includes('..'))
      throw new RangeError(`Expected a relative subtitle file but received ${text.url}`);
    const id = options.adaptationSets.length + i;
    lines.push(
      `    <AdaptationSet id="${id}" contentType="text" mimeType="text/vtt"` +
        `${text.lang ? ` lang="${escapeXml(text.lang)}"` : ''}>`,
      ...(text.label ? [`      <Label>${escapeXml(text.label)}</Label>`] : []),
      `      <Role schemeIdUri="${ROLE_SCHEME}" value="subtitle"/>`,
      `      <Representation id="${text.id}" bandwidth="${Math.ceil(text.bandwidth)}">`,
      `        <BaseURL>${text.url}</BaseURL>`,
      '      </Representation>',
      '    </AdaptationSet>',
    );
  });
  lines.push('  </Period>', '</MPD>');
  return `${lines.join('\n')}\n`;
}

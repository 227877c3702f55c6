import type { FrameTiming } from '../../functions/ffmpeg/args/transcode-ladder.js';
import type { MediaInfo } from '../../functions/video/media-info.js';
import type { Rendition } from '../../functions/video/ladder.js';
import type { OutputRecord } from './types.js';

/**
 * What the video tasks return. Workflows plan from these, and they are stored on the job, so
 * they hold names of intermediates in storage, never local paths.
 */
export interface ProbeTaskResult {
  media: Omit<MediaInfo, 'keyframeTimes'>;
  /** The ladder for this source (empty for audio-only sources). */
  renditions: Rendition[];
}

export interface SegmentRef {
  index: number;
  /** The piece's name under the job's scratch prefix, or null when the source was not split. */
  name: string | null;
  format: string;
  /** Seconds on the output timeline where the piece starts, and its exact length. */
  start: number;
  duration: number;
  frameCount: number;
  /**
   * The output frame grid (and resample plan) the split chose; absent when the frame rate is
   * unknown.
   */
  timing?: FrameTiming;
  /** The lead-in to pre-roll on, under the job's scratch prefix (see `seam-preroll.ts`). */
  preroll?: { name: string; format: string; skipFrames: number; frames: number };
}

export interface SplitTaskResult {
  mode: 'split' | 'whole';
  reason?: string;
  duration: number;
  segments: SegmentRef[];
}

export interface AudioTaskResult {
  /** The encoded audio's name under scratch, or null for a source without audio. */
  audio: string | null;
}

export interface TranscodeTaskResult {
  /** Encoded piece name under scratch, by rendition name. */
  files: Record<string, string>;
}

/** One rendition as the master playlist lists it. */
export interface Variant {
  name: string;
  width: number;
  height: number;
  /** Peak and average bits per second, measured from the written segments. */
  bandwidth: number;
  averageBandwidth: number;
  codecs: string;
  frameRate: number;
  /** The media playlist's path relative to the master playlist. */
  uri: string;
  /** CMAF packaging: what the master's audio group, I-frame playlists and the MPD need. */
  cmaf?: CmafFacts & {
    /** The I-frame playlist relative to the master, and its measured bitrates. */
    iframes: { uri: string; bandwidth: number; averageBandwidth: number };
  };
}

/** A CMAF rendition's track, measured from its fragments. */
export interface CmafFacts {
  /** Folder relative to the master playlist (and the MPD), holding init.mp4 and seg-NNNNN.m4s. */
  folder: string;
  /** RFC 6381 codec string of this track alone. */
  codec: string;
  timescale: number;
  /** Each segment's decode time and duration in timescale ticks, in order (seg-00000 first). */
  segments: Array<{ t: number; d: number }>;
}

/** The audio encoded once, packaged as its own CMAF rendition. */
export interface AudioRendition extends CmafFacts {
  /** Peak and average segment bitrates, bits per second. */
  bandwidth: number;
  averageBandwidth: number;
  channels: number;
  sampleRate: number;
  /** From the source stream's tags, when it has them. */
  language: string | null;
  label: string;
}

export interface AudioRenditionTaskResult {
  rendition: AudioRendition;
  outputs: OutputRecord[];
}

export interface MergeTaskResult {
  variant: Variant;
  outputs: OutputRecord[];
}

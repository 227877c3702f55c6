import type { z } from 'zod';
import type { TaskResultOf } from './task-kinds.js';
import type {
  audioRenditionSchema,
  cmafFactsSchema,
  segmentSchema,
  variantSchema,
} from './task-schemas.js';

/**
 * What the video tasks return, by name. Workflows plan from these, and they are stored on the
 * job, so they hold names of intermediates in storage, never local paths. The shapes are declared
 * once, as schemas, in task-kinds.ts and task-schemas.ts.
 */
export type ProbeTaskResult = TaskResultOf<'probe'>;
export type SplitTaskResult = TaskResultOf<'split'>;
export type AudioTaskResult = TaskResultOf<'audio'>;
export type TranscodeTaskResult = TaskResultOf<'transcode'>;
export type MergeTaskResult = TaskResultOf<'merge'>;
export type AudioRenditionTaskResult = TaskResultOf<'audio-rendition'>;

export type SegmentRef = z.infer<typeof segmentSchema>;
/** One rendition as the master playlist lists it. */
export type Variant = z.infer<typeof variantSchema>;
/** A CMAF rendition's track, measured from its fragments. */
export type CmafFacts = z.infer<typeof cmafFactsSchema>;
/** The audio encoded once, packaged as its own CMAF rendition. */
export type AudioRendition = z.infer<typeof audioRenditionSchema>;

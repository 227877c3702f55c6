import { audioHandler } from './audio.js';
import { audioRenditionHandler } from './audio-rendition.js';
import type { AnyTaskHandler } from './handler.js';
import { imageHandler } from './image.js';
import { loudnormHandler } from './loudnorm.js';
import { masterHandler } from './master.js';
import { mergeHandler } from './merge.js';
import { probeHandler } from './probe.js';
import { splitHandler } from './split.js';
import { thumbnailsHandler } from './thumbnails.js';
import { transcodeHandler } from './transcode.js';

/** Every task kind mediaflow runs, by kind. Workers look handlers up here. */
const ALL: AnyTaskHandler[] = [
  imageHandler,
  probeHandler,
  splitHandler,
  audioHandler,
  audioRenditionHandler,
  transcodeHandler,
  mergeHandler,
  masterHandler,
  thumbnailsHandler,
  loudnormHandler,
];

export const HANDLERS: ReadonlyMap<string, AnyTaskHandler> = new Map(ALL.map((h) => [h.kind, h]));

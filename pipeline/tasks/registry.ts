import { audioHandler } from './audio.js';
import { audioRenditionHandler } from './audio-rendition.js';
import type { TaskKind, TaskParams, TaskResultOf } from '../plan/task-kinds.js';
import type { AnyTaskHandler, TaskHandler } from './handler.js';
import { imageHandler } from './image.js';
import { loudnormHandler } from './loudnorm.js';
import { masterHandler } from './master.js';
import { mergeHandler } from './merge.js';
import { probeHandler } from './probe.js';
import { splitHandler } from './split.js';
import { subtitlesHandler } from './subtitles.js';
import { thumbnailsHandler } from './thumbnails.js';
import { transcodeHandler } from './transcode.js';

/** One handler per task kind of TaskKinds: a kind without one does not compile. */
const BY_KIND: { [K in TaskKind]: TaskHandler<TaskParams<K>, TaskResultOf<K>> } = {
  image: imageHandler,
  probe: probeHandler,
  split: splitHandler,
  audio: audioHandler,
  'audio-rendition': audioRenditionHandler,
  transcode: transcodeHandler,
  merge: mergeHandler,
  master: masterHandler,
  subtitles: subtitlesHandler,
  thumbnails: thumbnailsHandler,
  loudnorm: loudnormHandler,
};

/** Every task kind mediaflow runs, by kind. Workers look handlers up here. */
export const HANDLERS: ReadonlyMap<string, AnyTaskHandler> = new Map(Object.entries(BY_KIND));

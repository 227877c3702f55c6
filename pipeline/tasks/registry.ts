import type { AnyTaskHandler } from './handler.js';
import { imageHandler } from './image.js';

/** Every task kind mediaflow runs, by kind. Workers look handlers up here. */
const ALL: AnyTaskHandler[] = [imageHandler];

export const HANDLERS: ReadonlyMap<string, AnyTaskHandler> = new Map(ALL.map((h) => [h.kind, h]));

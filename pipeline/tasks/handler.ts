import type { z } from 'zod';
import type { FunctionContext } from '../../functions/context.js';
import type { Config } from '../config/load.js';
import type { ObjectStore } from '../storage/port.js';
import {
  TaskKinds,
  type TaskKind,
  type TaskParams,
  type TaskResultOf,
} from '../plan/task-kinds.js';
import type { JobSpec, OutputRecord, TaskResult } from '../plan/types.js';

/**
 * A task handler is the serverless function's shell: it fetches its inputs from storage into a
 * private scratch folder, calls a media function on local files, and puts the results back.
 * Because everything it needs comes from storage, any worker on any machine can run any task.
 */
export interface TaskHandler<P = unknown, R extends TaskResult = TaskResult> {
  kind: string;
  params: z.ZodType<P>;
  /** The result's shape, checked before it is stored (mediaflow's kinds: from TaskKinds). */
  result?: z.ZodType<R>;
  run(params: P, io: TaskIO): Promise<R>;
}

/** What a handler may do besides computing: the job's storage, scoped to its own prefixes. */
export interface TaskIO {
  job: JobSpec;
  config: Config;
  /** scratchDir, signal, progress and logger for the media function. */
  ctx: FunctionContext;
  store: ObjectStore;
  /** Downloads the job's source (exact ETag, size limit enforced) to a generated local name. */
  fetchSource(): Promise<string>;
  /** Downloads an intermediate another task wrote with `putScratch`. */
  fetchScratch(name: string): Promise<string>;
  /** Stores an intermediate under the job's scratch prefix, for later tasks on any machine. */
  putScratch(name: string, file: string): Promise<void>;
  /** Stores a final output under the job's output prefix and describes it for the manifest. */
  putOutput(
    relativeKey: string,
    file: string,
    describe: Omit<OutputRecord, 'key' | 'bytes' | 'sha256' | 'contentType'>,
  ): Promise<OutputRecord>;
}

/** Type-erased handler, for registries keyed by kind. */
export type AnyTaskHandler = TaskHandler<unknown>;

export function defineHandler<P>(handler: TaskHandler<P>): TaskHandler<P> {
  return handler;
}

/** A handler for one of mediaflow's task kinds: params and result schemas come from TaskKinds. */
export function defineTask<K extends TaskKind>(handler: {
  kind: K;
  run(params: TaskParams<K>, io: TaskIO): Promise<TaskResultOf<K>>;
}): TaskHandler<TaskParams<K>, TaskResultOf<K>> {
  // TypeScript cannot follow K into TaskKinds[kind]; the entry is the one for this kind.
  const { params, result } = TaskKinds[handler.kind] as unknown as {
    params: z.ZodType<TaskParams<K>>;
    result: z.ZodType<TaskResultOf<K>>;
  };
  return { kind: handler.kind, params, result, run: handler.run };
}

import { describe, expect, it } from 'vitest';
import { toErrorRecord } from '../../functions/errors.js';
import { parseMediaPlaylist } from '../../functions/video/hls-playlist.js';
import { runnerHooks } from '../../pipeline/app.js';
import type { Config } from '../../pipeline/config/load.js';
import { MemoryJobStore } from '../../pipeline/jobs/memory-store.js';
import type { Orchestrator } from '../../pipeline/jobs/orchestrator.js';
import type { Logger } from '../../pipeline/log.js';
import type { ObjectStore } from '../../pipeline/storage/port.js';

/** What a runner would record for a rejection: the code decides whether it is retried. */
async function recordOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeDefined();
  return toErrorRecord(error);
}

describe('errors that cross a boundary carry a deliberate code', () => {
  it('a task whose job record is gone fails JOB_NOT_FOUND, not a retried INTERNAL', async () => {
    const hooks = runnerHooks({
      config: {} as Config,
      log: {} as Logger,
      store: {} as ObjectStore,
      jobs: new MemoryJobStore(),
      orchestrator: {} as Orchestrator,
      handlers: new Map(),
    });
    const task = { id: 'inspect', kind: 'inspect', params: {} };
    const record = await recordOf(
      hooks.execute('gone', task, new AbortController().signal, () => {}),
    );
    expect(record).toMatchObject({ code: 'JOB_NOT_FOUND', retryable: false });
  });

  it('the memory job store answers JOB_NOT_FOUND like the Redis one', async () => {
    const record = await recordOf(new MemoryJobStore().touch('gone'));
    expect(record).toMatchObject({ code: 'JOB_NOT_FOUND', retryable: false });
  });

  it('a playlist ffmpeg wrote but we cannot read is FFMPEG_FAILED', () => {
    expect(() => parseMediaPlaylist('not a playlist')).toThrow(
      expect.objectContaining({ code: 'FFMPEG_FAILED' }),
    );
  });
});

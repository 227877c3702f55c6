import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../pipeline/config/load.js';
import { TaskKinds, planTask, resultOf } from '../../pipeline/plan/task-kinds.js';
import type { JobSpec, TaskResult } from '../../pipeline/plan/types.js';
import { videoWorkflow } from '../../pipeline/plan/video-workflow.js';
import { presetSchema } from '../../pipeline/presets/schema.js';
import type { ObjectStore } from '../../pipeline/storage/port.js';
import { executeTask } from '../../pipeline/tasks/execute.js';
import type { AnyTaskHandler } from '../../pipeline/tasks/handler.js';
import { HANDLERS } from '../../pipeline/tasks/registry.js';

const job = {
  id: 'j1',
  preset: presetSchema.parse({ name: 'video', kind: 'video' }),
} as JobSpec;

/** A merge result whose variant lost its bandwidth and has a negative width. */
const badMerge = {
  variant: { name: '720p', uri: '720p/index.m3u8', width: -1, height: 720, codecs: 'avc1' },
  outputs: [],
};

describe('task contract (TaskKinds)', () => {
  it('has a handler for every kind, using that kind’s schemas', () => {
    expect([...HANDLERS.keys()].sort()).toEqual(Object.keys(TaskKinds).sort());
    for (const [kind, handler] of HANDLERS) {
      const entry = TaskKinds[kind as keyof typeof TaskKinds];
      expect(handler.params, kind).toBe(entry.params);
      expect(handler.result, kind).toBe(entry.result);
    }
  });

  it('a workflow reading a wrongly shaped result gets an error naming task and field', () => {
    const done: Record<string, TaskResult> = { probe: { media: { video: { fps: 30 } } } };
    expect(() => videoWorkflow.next(job, done)).toThrow(
      expect.objectContaining({
        code: 'INTERNAL',
        message: expect.stringMatching(
          new RegExp(
            '^The stored result of task probe does not match the probe result contract: ' +
              '.*media\\.formatName: ',
          ),
        ),
      }),
    );
    expect(() => resultOf({ 'merge-720p': badMerge }, 'merge-720p', 'merge')).toThrow(
      /variant\.width.*variant\.bandwidth|variant\.bandwidth.*variant\.width/,
    );
  });

  it('a handler returning a wrongly shaped result is rejected before it is stored', async () => {
    const liar: AnyTaskHandler = {
      kind: 'merge',
      params: TaskKinds.merge.params,
      result: TaskKinds.merge.result,
      run: async () => badMerge,
    };
    const task = planTask('merge-720p', 'merge', {
      rendition: { name: '720p', width: 1280, height: 720, maxBitrate: 3e6, bufferBits: 6e6 },
      audio: null,
      pieces: [{ name: 'enc-720p-00000.mp4', duration: 4 }],
    });
    const run = executeTask(
      job,
      task,
      {
        handlers: new Map([['merge', liar]]),
        recordWrite: async () => {},
        store: {} as ObjectStore,
        config: { scratchDir: os.tmpdir() } as Config,
        log: { debug() {}, info() {}, warn() {}, error() {} } as never,
      },
      new AbortController().signal,
      () => {},
    );
    await expect(run).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(
        /^Task merge-720p's result does not match the merge result contract: .*variant\.width/,
      ),
    });
  });

  it('planning a task with the wrong params does not compile', () => {
    // @ts-expect-error: a transcode needs its segment, media and renditions
    const wrong = planTask('transcode-0000', 'transcode', { segment: 3 });
    expect(wrong.kind).toBe('transcode');
  });
});

import { z } from 'zod';
import { workerListSchema, type WorkerInfo } from '../runner/worker-registry.js';

type Json = Record<string, unknown>;

const example: { workers: WorkerInfo[] } = {
  workers: [
    {
      id: 'worker-7d9f:1:a41c09',
      host: 'worker-7d9f',
      pid: 1,
      concurrency: 4,
      state: 'running',
      version: '0.1.0',
      ffmpegVersion: '5.1.6',
      startedAt: '2026-12-05T08:00:12.004Z',
      seenAt: '2026-12-05T09:12:30.511Z',
      tasks: [
        {
          jobId: 'j3f9c2b7d14e5a6b8c9d0e1f2',
          taskId: 'transcode-0003',
          startedAt: '2026-12-05T09:12:09.551Z',
        },
      ],
    },
  ],
};

/** GET /v1/workers: the Workers page's data, admins only. */
export function workerPaths(error: (d: string) => Json): Json {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(workerListSchema, {
    io: 'output',
  }) as Json;
  return {
    '/v1/workers': {
      get: {
        summary: 'The live workers: host, concurrency, running tasks, versions (admins only)',
        description:
          'Distributed mode: every `mediaflow worker` whose heartbeat (every ' +
          'MEDIAFLOW_HEARTBEAT_S) is younger than three periods; a stopped worker removes its ' +
          'own entry, a killed one drops out when it lapses. Embedded mode: this process, whose ' +
          'in-process runner is the only worker.',
        responses: {
          200: {
            description: 'Every live worker, the longest running first.',
            content: { 'application/json': { schema, example } },
          },
          403: error('The key is not an admin key (FORBIDDEN).'),
          503: error('Redis is unavailable (QUEUE_UNAVAILABLE); safe to retry.'),
        },
      },
    },
  };
}

/**
 * A task-only BullMQ consumer with no-op hooks, for the queue bench's throughput figure: what a
 * worker process costs per task when the task itself costs nothing. Env: REDIS_URL,
 * BENCH_QUEUE_PREFIX, BENCH_CONCURRENCY. Prints "ready" once consuming; SIGTERM stops it.
 */
import { BullmqRunner } from '../pipeline/runner/bullmq.js';
import type { RunnerHooks } from '../pipeline/runner/port.js';

const noop = async () => {};
const hooks: RunnerHooks = {
  execute: async () => ({}),
  taskChanged: noop,
  taskProgress: noop,
  stageDone: noop,
  stageFailed: noop,
};
const runner = new BullmqRunner(hooks, {
  redisUrl: process.env.REDIS_URL!,
  queuePrefix: process.env.BENCH_QUEUE_PREFIX!,
  retry: { attempts: 1, backoffMs: 10 },
  consume: {
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 8),
    queues: { tasks: true, stages: false },
  },
  onError: () => {},
});
await runner.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => void runner.shutdown(1000).then(() => process.exit(0)));

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isFinal } from '../../jobs/job.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../http-errors.js';
import { jobSummary, jobView } from '../job-view.js';
import { watchJobs } from '../job-watch.js';
import { openEventStream, type EventStream } from '../sse.js';
import { mayAccess } from '../job-owners.js';
import { callerOf, requireJob } from './jobs.js';

/**
 * Progress as Server-Sent Events.
 *
 * `GET /v1/jobs/:id/events`: `job` events carrying the whole job view (state, per-task progress,
 * outputs, error), first a snapshot and then on every change (task progress at most every
 * 250 ms), and when the job ends a final `job` event followed by `end`, after which the server
 * closes the stream. Whole views rather than deltas: a client that reconnects or misses an
 * event is correct again at the next one.
 *
 * `GET /v1/jobs/events`: `job` events with job summaries for every job that changes, for lists.
 * It never ends by itself.
 */
export async function jobEventRoutes(server: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { app } = ctx;
  // Each stream holds a connection and a store subscription: a key gets a bounded number at once
  // (per process), and one more is 429 until one closes.
  const cap = app.config.api.sseStreamsPerKey;
  const open = new Map<string, number>();
  const admit = (request: FastifyRequest) => {
    const name = callerOf(request).name;
    const held = open.get(name) ?? 0;
    if (held >= cap)
      throw new ApiError(
        'RATE_LIMITED',
        `At most ${cap} event streams per API key at once; close one or retry later`,
        { 'retry-after': '5' },
      );
    open.set(name, held + 1);
    return () => {
      const left = (open.get(name) ?? 1) - 1;
      if (left > 0) open.set(name, left);
      else open.delete(name);
    };
  };
  const track = (stream: EventStream, release: () => void) => {
    ctx.streams.add(stream);
    stream.onClose(() => {
      ctx.streams.delete(stream);
      release();
    });
  };
  const onError = (stream: EventStream) => (error: unknown) => {
    app.log.warn({ err: error }, 'job event stream failed');
    stream.close();
  };

  server.get('/v1/jobs/events', async (request, reply) => {
    const release = admit(request);
    const stream = opened(() => openEventStream(request, reply), release);
    track(stream, release);
    const caller = callerOf(request);
    const stop = watchJobs(
      app.jobs,
      { filter: () => true },
      (job) =>
        void mayAccess(ctx.owners, job.spec.id, caller).then(
          (ok) => ok && stream.send('job', jobSummary(job)),
          onError(stream),
        ),
      onError(stream),
    );
    stream.onClose(stop);
  });

  server.get<{ Params: { id: string } }>('/v1/jobs/:id/events', async (request, reply) => {
    const id = request.params.id;
    await requireJob(ctx, id, request);
    const release = admit(request);
    const stream = opened(() => openEventStream(request, reply), release);
    track(stream, release);
    const deliver = (job: Parameters<typeof jobView>[0]) => {
      stream.send('job', jobView(job));
      if (isFinal(job.state)) {
        stream.send('end', { state: job.state });
        stream.close();
      }
    };
    // The snapshot is primed into the watcher, so it is read after subscribing and in order.
    const stop = watchJobs(
      app.jobs,
      { filter: (jobId) => jobId === id, prime: [id] },
      deliver,
      onError(stream),
    );
    stream.onClose(stop);
  });
}

/** Opens a stream, giving its admission back if opening fails. */
function opened(open: () => EventStream, release: () => void): EventStream {
  try {
    return open();
  } catch (error) {
    release();
    throw error;
  }
}

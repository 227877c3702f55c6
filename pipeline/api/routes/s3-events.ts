import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseTriggerMessage } from '../../events/trigger-message.js';
import { submitStorageEvents } from '../../triggers/submit-events.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../http-errors.js';

/**
 * The bucket-notification webhook (MinIO webhook targets, or a relay of S3 notifications).
 * It has its own bearer token (MEDIAFLOW_WEBHOOK_TOKEN), so storage never holds an API key;
 * without a token configured it is switched off. Keys arrive URL-encoded (AWS: `+` for spaces;
 * MinIO also escapes `/`), which `parseTriggerMessage(body, 'url')` decodes. It takes what the
 * broker consumers take: a notification, the same as a structured CloudEvent, or a command.
 *
 * Answers 200 once every event is submitted (ignored events included), 400 EVENT_INVALID for a
 * body that is not a notification (retrying it cannot help), and 503 when storage or the queue is
 * away, so the sender keeps the events and delivers them again.
 */
export async function s3EventRoutes(server: FastifyInstance, ctx: ApiContext): Promise<void> {
  // MinIO checks that a webhook target is alive with HEAD, and treats an answer as alive.
  server.head('/v1/events/s3', async (_request, reply) => reply.code(200).send());

  // The token is checked on arrival, before the body is read.
  const onRequest = async (request: FastifyRequest) => {
    if (!ctx.webhookAuth.enabled)
      throw new ApiError(
        'UNAUTHORIZED',
        'The storage webhook is off: set MEDIAFLOW_WEBHOOK_TOKEN to turn it on',
      );
    ctx.webhookAuth.require(request, 'mediaflow-webhook');
  };

  server.post('/v1/events/s3', { onRequest }, async (request) => {
    const events = parseTriggerMessage(request.body, 'url');
    const outcomes = await submitStorageEvents(
      ctx.app.orchestrator,
      ctx.app.config.buckets.input,
      events,
    );
    return {
      events: outcomes.map(({ event, outcome }) => ({
        type: event.type,
        ...(event.type === 'test' ? {} : { bucket: event.bucket, key: event.key }),
        ...outcome,
      })),
    };
  });
}

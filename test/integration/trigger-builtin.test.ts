import type { FastifyInstance } from 'fastify';
import type { App } from '../../pipeline/app.js';
import { buildServer } from '../../pipeline/api/server.js';
import { listenToEmbeddedEvents } from '../../pipeline/triggers/embedded-events.js';
import { sweepOnce } from '../../pipeline/triggers/sweep.js';
import { minioNotification } from '../helpers/minio-events.js';
import { outcomeCounter } from '../helpers/outcome-counter.js';
import { triggerConformance, type TriggerHarness } from '../helpers/trigger-conformance.js';

// The triggers without a broker. None has a connection of its own to lose: the webhook's sender
// keeps events it could not deliver (503) and sends them again, and the sweep is the safety net
// for events lost anywhere, so the interruption case applies to the broker consumers only.

const TOKEN = 'conformance-webhook-token';

function webhookHarness(): TriggerHarness {
  const counter = outcomeCounter();
  let server: FastifyInstance;
  const dead: { body: string; reason: string }[] = [];
  const post = async (body: string) => {
    const res = await server.inject({
      method: 'POST',
      url: '/v1/events/s3',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: body,
    });
    if (res.statusCode === 400) dead.push({ body, reason: res.json().error.message });
    else if (res.statusCode !== 200) throw new Error(`webhook answered ${res.statusCode}`);
    else for (const e of res.json().events as { key?: string }[]) if (e.key) counter.add(e.key);
  };
  return {
    async start(app: App) {
      server = await buildServer(app, { webhookToken: TOKEN, rateLimit: false });
    },
    stop: async () => void (await server?.close()),
    async announce(app, key, body) {
      const bucket = app.config.buckets.input;
      await app.store.putBytes(bucket, key, body);
      const head = await app.store.head(bucket, key);
      await post(JSON.stringify(minioNotification(bucket, key, { etag: head!.etag })));
    },
    judged: counter.judged,
    sendRaw: post,
    deadLetters: async () => dead,
  };
}

function embeddedHarness(): TriggerHarness {
  const counter = outcomeCounter();
  let stop = () => {};
  return {
    async start(app: App) {
      stop = listenToEmbeddedEvents(
        app.embedded!,
        app.orchestrator,
        app.config.buckets.input,
        app.log,
        counter.onOutcome,
      );
    },
    stop: async () => stop(),
    // The upload is the event; the same bytes again are a second delivery of the same version.
    announce: async (app, key, body) => app.store.putBytes(app.config.buckets.input, key, body),
    judged: counter.judged,
  };
}

function sweepHarness(): TriggerHarness {
  const counter = outcomeCounter();
  return {
    start: async () => {},
    stop: async () => {},
    async announce(app, key, body) {
      await app.store.putBytes(app.config.buckets.input, key, body);
      await sweepOnce({
        store: app.store,
        orchestrator: app.orchestrator,
        inputBucket: app.config.buckets.input,
        log: app.log,
        onOutcome: counter.onOutcome,
      });
    },
    judged: counter.judged,
  };
}

triggerConformance('webhook', webhookHarness);
triggerConformance('embedded store events', embeddedHarness);
triggerConformance('sweep', sweepHarness);

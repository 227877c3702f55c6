import crypto from 'node:crypto';
import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import type { App } from '../../pipeline/app.js';
import {
  NATS_REASON_HEADER,
  natsDeadLetterSubject,
  natsStreamName,
  startNatsConsumer,
} from '../../pipeline/triggers/nats-consumer.js';
import type { TriggerConsumer } from '../../pipeline/triggers/reconnect.js';
import { outcomeCounter } from '../helpers/outcome-counter.js';
import { minioNotification } from '../helpers/minio-events.js';
import { startPrivateNats, type PrivateBroker } from '../helpers/private-broker.js';
import {
  conformanceOnPrivateBroker,
  consumerDeps,
  putObject,
  restartOf,
  TEST_CONSUMER_OPTIONS,
  triggerConformance,
  untilReady,
  type TriggerHarness,
} from '../helpers/trigger-conformance.js';

const SHARED_NATS = process.env.MEDIAFLOW_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** `broker` given: a private server the interruption test restarts; else the shared one. */
function natsHarness(broker?: () => PrivateBroker): TriggerHarness {
  const id = crypto.randomBytes(4).toString('hex');
  const counter = outcomeCounter();
  const subject = `mediaflow-test.${id}.events`;
  let consumer: TriggerConsumer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  const dead: { body: string; reason: string }[] = [];
  let deadSeq = 0;
  const url = () => broker?.().url ?? SHARED_NATS;
  const publish = async (body: string) => {
    // The test's publisher retries while the server restarts, as a real producer would.
    for (let attempt = 0; ; attempt++) {
      try {
        await js.publish(subject, new TextEncoder().encode(body));
        return;
      } catch (error) {
        if (attempt > 100) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  return {
    async start(app: App) {
      consumer = startNatsConsumer(consumerDeps(app, counter), {
        url: url(),
        subject,
        ...TEST_CONSUMER_OPTIONS,
      });
      await untilReady(consumer);
      nc = await connect({ servers: url(), maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      js = nc.jetstream();
    },
    async stop() {
      await consumer?.stop();
      if (!nc) return;
      if (!broker) await (await nc.jetstreamManager()).streams.delete(natsStreamName(subject));
      await nc.close();
    },
    async announce(app, key, body) {
      const { bucket, etag, size } = await putObject(app, key, body);
      await publish(JSON.stringify(minioNotification(bucket, key, { etag, size })));
    },
    judged: counter.judged,
    sendRaw: publish,
    async deadLetters() {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.streams.info(natsStreamName(subject));
      for (let seq = deadSeq + 1; seq <= info.state.last_seq; seq++) {
        deadSeq = seq;
        const message = await jsm.streams
          .getMessage(natsStreamName(subject), { seq })
          .catch(() => undefined);
        if (message?.subject !== natsDeadLetterSubject(subject)) continue;
        dead.push({
          body: new TextDecoder().decode(message.data),
          reason: message.header.get(NATS_REASON_HEADER),
        });
      }
      return dead;
    },
    ...restartOf(broker, () => consumer),
    state: () => consumer.status.state,
  };
}

triggerConformance('NATS JetStream (shared server)', () => natsHarness());

conformanceOnPrivateBroker('NATS JetStream (restarted server)', startPrivateNats, natsHarness);

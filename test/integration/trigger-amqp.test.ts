import crypto from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { expect } from 'vitest';
import type { App } from '../../pipeline/app.js';
import {
  AMQP_REASON_HEADER,
  amqpDeadLetterName,
  startAmqpConsumer,
} from '../../pipeline/triggers/amqp-consumer.js';
import type { TriggerConsumer } from '../../pipeline/triggers/reconnect.js';
import { outcomeCounter } from '../helpers/outcome-counter.js';
import { minioNotification } from '../helpers/minio-events.js';
import { AMQP_URL, closeAmqpConnections } from '../helpers/rabbitmq.js';
import {
  consumerDeps,
  putObject,
  TEST_CONSUMER_OPTIONS,
  triggerConformance,
  untilReady,
  type TriggerHarness,
} from '../helpers/trigger-conformance.js';

function amqpHarness(): TriggerHarness {
  const id = crypto.randomBytes(4).toString('hex');
  const counter = outcomeCounter();
  const queue = `mediaflow-test-${id}`;
  const connectionName = `mediaflow-test-consumer-${id}`;
  let consumer: TriggerConsumer;
  let publisher: ChannelModel;
  let channel: ConfirmChannel;
  const dead: { body: string; reason: string }[] = [];
  const publish = async (exchange: string, routingKey: string, body: string) => {
    channel.publish(exchange, routingKey, Buffer.from(body), { persistent: true });
    await channel.waitForConfirms();
  };
  return {
    async start(app: App) {
      consumer = startAmqpConsumer(consumerDeps(app, counter), {
        url: AMQP_URL,
        queue,
        connectionName,
        ...TEST_CONSUMER_OPTIONS,
      });
      publisher = await amqp.connect(AMQP_URL);
      channel = await publisher.createConfirmChannel();
      await untilReady(consumer);
    },
    async stop() {
      await consumer?.stop();
      if (!channel) return;
      for (const name of [queue, amqpDeadLetterName(queue)]) {
        await channel.deleteQueue(name);
        await channel.deleteExchange(name);
      }
      await publisher.close();
    },
    async announce(app, key, body) {
      const { bucket, etag, size } = await putObject(app, key, body);
      // As MinIO's AMQP target: to the exchange, with its routing key.
      const notification = minioNotification(bucket, key, { etag, size });
      await publish(queue, 'bucketevents', JSON.stringify(notification));
    },
    judged: counter.judged,
    sendRaw: (body) => publish('', queue, body),
    async deadLetters() {
      for (;;) {
        const message = await channel.get(amqpDeadLetterName(queue));
        if (!message) break;
        channel.ack(message);
        dead.push({
          body: message.content.toString('utf8'),
          reason: String(message.properties.headers?.[AMQP_REASON_HEADER] ?? ''),
        });
      }
      return dead;
    },
    async interrupt() {
      const closed = await closeAmqpConnections(connectionName);
      expect(closed).toBe(1);
      // Back once the consumer has reconnected.
      await untilReady(consumer);
    },
    state: () => consumer.status.state,
  };
}

triggerConformance('AMQP (RabbitMQ)', amqpHarness);

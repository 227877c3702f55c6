import os from 'node:os';
import amqp, { type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { toErrorRecord } from '../../functions/errors.js';
import { ConsumerStatus, redactUrl } from './consumer-status.js';
import { consumeMessage, type DeliveryDeps } from './deliver.js';
import { reconnectLoop, type ConsumerOptions, type TriggerConsumer } from './reconnect.js';

export interface AmqpConsumerOptions extends ConsumerOptions {
  url: string;
  queue: string;
  /** Shown in RabbitMQ's connection list; default `mediaflow <host> <pid>`. */
  connectionName?: string;
}

/** Headers a dead-lettered message carries, besides its original ones. */
export const AMQP_REASON_HEADER = 'x-mediaflow-reason';
export const AMQP_CODE_HEADER = 'x-mediaflow-error-code';

/** The dead-letter exchange (fanout) and the queue bound to it, both named after the queue. */
export function amqpDeadLetterName(queue: string): string {
  return `${queue}.dead-letter`;
}

/**
 * Declares what the consumer needs (idempotent, so every process and every reconnect may do it):
 * a durable queue whose dead-letter exchange holds what was refused, and a durable topic exchange
 * of the queue's name bound with `#`, for MinIO's AMQP target (which publishes to an exchange).
 * Producers may also publish to the default exchange with the queue name as routing key.
 */
export async function declareAmqpTopology(channel: ConfirmChannel, queue: string): Promise<void> {
  const dead = amqpDeadLetterName(queue);
  await channel.assertExchange(dead, 'fanout', { durable: true });
  await channel.assertQueue(dead, { durable: true });
  await channel.bindQueue(dead, dead, '');
  await channel.assertExchange(queue, 'topic', { durable: true });
  await channel.assertQueue(queue, { durable: true, deadLetterExchange: dead });
  await channel.bindQueue(queue, queue, '#');
}

/**
 * Consumes the AMQP queue: competing consumers (several serve processes share one queue), manual
 * acks after the job record exists, malformed messages republished to the dead-letter exchange
 * with the reason in a header (with publisher confirms, before the ack, so none is lost), and
 * transient failures handed back with `nack(requeue)` after a growing delay. A lost connection is
 * reopened with backoff; unacknowledged messages return to the queue meanwhile.
 */
export function startAmqpConsumer(
  deps: DeliveryDeps,
  options: AmqpConsumerOptions,
): TriggerConsumer {
  const { queue, prefetch } = options;
  const status = new ConsumerStatus('amqp', `${redactUrl(options.url)} queue ${queue}`);
  const dead = amqpDeadLetterName(queue);

  const settle = (channel: ConfirmChannel, message: ConsumeMessage, signal: AbortSignal) => ({
    ack: () => channel.ack(message),
    deadLetter: (code: string, reason: string) =>
      new Promise<void>((resolve, reject) => {
        const headers = {
          ...(message.properties.headers ?? {}),
          [AMQP_REASON_HEADER]: reason,
          [AMQP_CODE_HEADER]: code,
        };
        channel.publish(
          dead,
          message.fields.routingKey,
          message.content,
          { persistent: true, headers, contentType: message.properties.contentType },
          (error: unknown) => {
            if (error) return reject(error instanceof Error ? error : new Error(String(error)));
            channel.ack(message);
            resolve();
          },
        );
      }),
    retry: async (delayMs: number) => {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
      channel.nack(message, false, true);
    },
  });

  return reconnectLoop(status, deps.log, options.backoff, async (signal, handle) => {
    const conn = await amqp.connect(options.url, {
      clientProperties: {
        connection_name: options.connectionName ?? `mediaflow ${os.hostname()} ${process.pid}`,
      },
    });
    const closed = new Promise<Error | undefined>((resolve) => conn.on('close', resolve));
    conn.on('error', () => {}); // followed by 'close', which ends this session
    try {
      const channel = await conn.createConfirmChannel();
      // A channel error (a refused declaration, an ack of an unknown tag) closes the channel;
      // the session starts over on a fresh connection.
      channel.on('error', () => {});
      channel.on('close', () => void conn.close().catch(() => {}));
      await declareAmqpTopology(channel, queue);
      await channel.prefetch(prefetch);
      await channel.consume(queue, (message) => {
        // null: the broker cancelled the consumer (queue deleted); reconnect and declare again.
        if (!message) return void conn.close().catch(() => {});
        handle(() =>
          consumeMessage(deps, status, message.content, settle(channel, message, signal)).catch(
            (error: unknown) =>
              deps.log.warn(
                { trigger: 'amqp', err: toErrorRecord(error) },
                'could not settle a message; the broker redelivers it',
              ),
          ),
        );
      });
    } catch (error) {
      await conn.close().catch(() => {});
      throw error;
    }
    return { closed, close: () => conn.close().catch(() => {}) };
  });
}

import os from 'node:os';
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  headers,
  nanos,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import { toErrorRecord } from '../../functions/errors.js';
import { ConsumerStatus, redactUrl } from './consumer-status.js';
import { consumeMessage, type DeliveryDeps, type Settle } from './deliver.js';
import { reconnectLoop, type ConsumerOptions, type TriggerConsumer } from './reconnect.js';

export interface NatsConsumerOptions extends ConsumerOptions {
  url: string;
  subject: string;
  /** The durable consumer's name, shared by every serve process; default `mediaflow`. */
  durable?: string;
}

/** Headers a dead-lettered message carries. */
export const NATS_REASON_HEADER = 'Mediaflow-Reason';
export const NATS_CODE_HEADER = 'Mediaflow-Error-Code';

export function natsDeadLetterSubject(subject: string): string {
  return `${subject}.dead-letter`;
}

/** The stream mediaflow creates when none captures the subject (names cannot hold dots). */
export function natsStreamName(subject: string): string {
  return subject.replace(/\./g, '_');
}

/** All the cluster may hold unacknowledged for the durable consumer, across processes. */
const MAX_ACK_PENDING = 1000;
/** A message not acknowledged within this (a process died holding it) is delivered again. */
const ACK_WAIT_MS = 60_000;

/**
 * Consumes a JetStream durable consumer on the subject: competing pull consumers (several serve
 * processes share the durable), explicit acks after the job record exists, transient failures
 * `nak`ed with a growing delay, and malformed messages published to `<subject>.dead-letter` with
 * the reason in a header, then `term`ed so they are never redelivered. If no stream captures the
 * subject, one is created that also keeps the dead letters. A lost connection is reopened with
 * backoff; the durable consumer remembers where it was.
 */
export function startNatsConsumer(
  deps: DeliveryDeps,
  options: NatsConsumerOptions,
): TriggerConsumer {
  const { subject, prefetch } = options;
  const durable = options.durable ?? 'mediaflow';
  const deadSubject = natsDeadLetterSubject(subject);
  const status = new ConsumerStatus('nats', `${redactUrl(options.url)} subject ${subject}`);

  const settle = (nc: NatsConnection, js: JetStreamClient, message: JsMsg): Settle => ({
    async ack() {
      // Double ack: the server confirms it, so an ack lost on the wire is not taken as done.
      await message.ackAck();
    },
    async deadLetter(code, reason) {
      const h = headers();
      for (const [name, value] of message.headers ?? []) for (const v of value) h.append(name, v);
      h.set(NATS_REASON_HEADER, reason.replace(/[\r\n]+/g, ' '));
      h.set(NATS_CODE_HEADER, code);
      try {
        await js.publish(deadSubject, message.data, { headers: h });
      } catch (error) {
        // No stream captures the dead-letter subject (an operator's own stream): still announce it.
        deps.log.warn(
          { trigger: 'nats', subject: deadSubject, err: toErrorRecord(error) },
          'dead-letter subject is not kept by any stream; published without persistence',
        );
        nc.publish(deadSubject, message.data, { headers: h });
      }
      message.term(reason.slice(0, 200));
    },
    retry(delayMs) {
      message.nak(delayMs);
    },
  });

  return reconnectLoop(status, deps.log, options.backoff, async (_signal, handle) => {
    const nc = await connect({
      servers: options.url,
      name: `mediaflow ${os.hostname()} ${process.pid}`,
      reconnect: false,
      timeout: 5000,
    });
    try {
      const jsm = await nc.jetstreamManager();
      const stream = await ensureStream(jsm, subject, deadSubject);
      await ensureConsumer(jsm, stream, durable, subject);
      const js = nc.jetstream();
      const consumer = await js.consumers.get(stream, durable);
      const messages = await consumer.consume({ max_messages: prefetch });
      void (async () => {
        let active = 0;
        let slot: (() => void) | undefined;
        for await (const message of messages) {
          // Bounded concurrency: wait for a slot before taking the next message.
          while (active >= prefetch) await new Promise<void>((resolve) => (slot = resolve));
          active++;
          handle(() =>
            consumeMessage(deps, status, message.data, settle(nc, js, message))
              .catch((error: unknown) =>
                deps.log.warn(
                  { trigger: 'nats', err: toErrorRecord(error) },
                  'could not settle a message; JetStream redelivers it',
                ),
              )
              .finally(() => {
                active--;
                slot?.();
              }),
          );
        }
      })().catch(() => {});
    } catch (error) {
      await nc.close().catch(() => {});
      throw error;
    }
    const closed = nc.closed().then((error) => error ?? undefined);
    return { closed, close: () => nc.drain().catch(() => {}) };
  });
}

async function ensureStream(
  jsm: JetStreamManager,
  subject: string,
  deadSubject: string,
): Promise<string> {
  const existing = await jsm.streams.find(subject).catch(() => undefined);
  if (existing) return existing;
  const name = natsStreamName(subject);
  await jsm.streams.add({ name, subjects: [subject, deadSubject] });
  return name;
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  subject: string,
): Promise<void> {
  const existing = await jsm.consumers.info(stream, durable).catch(() => undefined);
  if (existing) return;
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: subject,
    ack_wait: nanos(ACK_WAIT_MS),
    max_ack_pending: MAX_ACK_PENDING,
  });
}

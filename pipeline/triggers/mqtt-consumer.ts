import mqtt, { type MqttClient } from 'mqtt';
import { MediaflowError, toErrorRecord } from '../../functions/errors.js';
import { ConsumerStatus, redactUrl } from './consumer-status.js';
import { consumeMessage, pause, type DeliveryDeps, type Settle } from './deliver.js';
import { reconnectLoop, type ConsumerOptions, type TriggerConsumer } from './reconnect.js';

/** `prefetch` is the MQTT 5 receive maximum: messages the broker sends before our acks. */
export interface MqttConsumerOptions extends ConsumerOptions {
  url: string;
  topic: string;
  /** Stable across restarts, so the broker keeps this process's session while it is away. */
  clientId: string;
  /** The shared-subscription group every serve process joins; default `mediaflow`. */
  group?: string;
}

/** Where malformed messages are republished, with `reason` and `code` user properties. */
export function mqttDeadLetterTopic(topic: string): string {
  return `${topic}/dead-letter`;
}

/** The broker keeps a session (subscription and unacknowledged messages) this long offline. */
const SESSION_EXPIRY_S = 7 * 24 * 3600;

/**
 * Subscribes at QoS 1 with a persistent MQTT 5 session through a shared subscription
 * (`$share/<group>/<topic>`), so several serve processes split the messages and the broker keeps
 * what arrives while one is away. A message is acknowledged (PUBACK) only once its job record
 * exists or it was judged ignorable; a transient failure keeps it unacknowledged and retries with
 * a growing delay (MQTT has no negative ack; a reconnect would redeliver it). Malformed messages
 * are logged, counted, republished to `<topic>/dead-letter` with the reason as a user property,
 * and acknowledged. The client handles one incoming message at a time.
 */
export function startMqttConsumer(
  deps: DeliveryDeps,
  options: MqttConsumerOptions,
): TriggerConsumer {
  const { topic } = options;
  const shared = `$share/${options.group ?? 'mediaflow'}/${topic}`;
  const deadTopic = mqttDeadLetterTopic(topic);
  const status = new ConsumerStatus('mqtt', `${redactUrl(options.url)} topic ${topic}`);

  return reconnectLoop(status, deps.log, options.backoff, async (signal, handle) => {
    const settle = (
      current: MqttClient,
      payload: Buffer,
      done: (code: number) => void,
    ): Settle => ({
      ack: () => done(0),
      async deadLetter(code, reason) {
        // Not awaited: the client handles no incoming packet (the PUBACK of this publish
        // included) until `done` is called. QoS 1 from a persistent session is resent if needed.
        current.publish(deadTopic, payload, {
          qos: 1,
          properties: { userProperties: { reason, code } },
        });
        done(0);
      },
      async retry(delayMs) {
        await pause(delayMs, signal);
        if (signal.aborted) return; // never acknowledged: the broker resends it to the session
        await consumeMessage(deps, status, payload, settle(current, payload, done));
      },
    });
    const session = mqtt.connect(options.url, {
      protocolVersion: 5,
      clientId: options.clientId,
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      properties: { sessionExpiryInterval: SESSION_EXPIRY_S, receiveMaximum: options.prefetch },
      customHandleAcks: (_topic, payload, _packet, done) =>
        handle(() =>
          consumeMessage(deps, status, payload, settle(session, payload, done)).catch(
            (error: unknown) =>
              deps.log.warn(
                { trigger: 'mqtt', err: toErrorRecord(error) },
                'could not settle a message; the broker redelivers it',
              ),
          ),
        ),
    });
    const closed = new Promise<Error | undefined>((resolve) => {
      let last: Error | undefined;
      session.on('error', (error) => (last = error));
      session.on('close', () => resolve(last));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        session.once('connect', () => resolve());
        void closed.then((error) => reject(error ?? new Error('connection refused')));
      });
      // Subscribing again is harmless when the session was kept, and needed when it was not.
      const granted = await session.subscribeAsync(shared, { qos: 1 });
      if (granted.some((g) => g.qos !== 1))
        throw new MediaflowError(
          'QUEUE_UNAVAILABLE',
          `The MQTT broker refused a QoS 1 shared subscription to ${topic}`,
        );
    } catch (error) {
      session.end(true);
      throw error;
    }
    return { closed, close: () => session.endAsync(true).catch(() => {}) };
  });
}

import crypto from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { App } from '../../pipeline/app.js';
import { mqttDeadLetterTopic, startMqttConsumer } from '../../pipeline/triggers/mqtt-consumer.js';
import type { TriggerConsumer } from '../../pipeline/triggers/reconnect.js';
import { outcomeCounter } from '../helpers/outcome-counter.js';
import { minioNotification } from '../helpers/minio-events.js';
import { forgetMqttSessions } from '../helpers/mqtt-sessions.js';
import { startPrivateMosquitto, type PrivateBroker } from '../helpers/private-broker.js';
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

const SHARED_MQTT = process.env.MEDIAFLOW_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** `broker` given: a private Mosquitto the interruption test restarts; else the shared one. */
function mqttHarness(broker?: () => PrivateBroker): TriggerHarness {
  const id = crypto.randomBytes(4).toString('hex');
  const counter = outcomeCounter();
  const topic = `mediaflow-test/${id}/events`;
  let consumer: TriggerConsumer;
  let publisher: MqttClient;
  const dead: { body: string; reason: string }[] = [];
  const url = () => broker?.().url ?? SHARED_MQTT;
  return {
    async start(app: App) {
      // A persistent publisher session: QoS 1 messages sent while the broker is down are resent.
      publisher = await mqtt.connectAsync(url(), {
        protocolVersion: 5,
        clientId: `mediaflow-test-pub-${id}`,
        clean: false,
        reconnectPeriod: 100,
      });
      publisher.on('message', (_topic, payload, packet) => {
        const reason = packet.properties?.userProperties?.reason;
        dead.push({ body: payload.toString('utf8'), reason: String(reason ?? '') });
      });
      await publisher.subscribeAsync(mqttDeadLetterTopic(topic), { qos: 1 });
      consumer = startMqttConsumer(consumerDeps(app, counter), {
        url: url(),
        topic,
        clientId: `mediaflow-test-${id}`,
        ...TEST_CONSUMER_OPTIONS,
      });
      await untilReady(consumer);
    },
    async stop() {
      await consumer?.stop();
      await publisher?.endAsync();
      await forgetMqttSessions(url(), [`mediaflow-test-${id}`, `mediaflow-test-pub-${id}`]);
    },
    async announce(app, key, body) {
      const { bucket, etag, size } = await putObject(app, key, body);
      const notification = minioNotification(bucket, key, { etag, size });
      await publisher.publishAsync(topic, JSON.stringify(notification), { qos: 1 });
    },
    judged: counter.judged,
    sendRaw: async (body) => void (await publisher.publishAsync(topic, body, { qos: 1 })),
    deadLetters: async () => dead,
    ...restartOf(broker, () => consumer),
    state: () => consumer.status.state,
  };
}

triggerConformance('MQTT 5 (shared broker)', () => mqttHarness());

conformanceOnPrivateBroker('MQTT 5 (restarted broker)', startPrivateMosquitto, mqttHarness);

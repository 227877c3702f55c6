import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startServe, type ServeHandle } from '../../pipeline/cli/serve.js';
import { loadConfig } from '../../pipeline/config/load.js';
import { createLogger } from '../../pipeline/log.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../pipeline/storage/embedded-s3.js';
import { amqpDeadLetterName } from '../../pipeline/triggers/amqp-consumer.js';
import { natsStreamName } from '../../pipeline/triggers/nats-consumer.js';
import type { ConsumerSnapshot } from '../../pipeline/triggers/consumer-status.js';
import { asCloudEvent, minioNotification } from '../helpers/minio-events.js';
import { forgetMqttSessions } from '../helpers/mqtt-sessions.js';
import { AMQP_URL } from '../helpers/rabbitmq.js';

const NATS_URL = process.env.MEDIAFLOW_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const MQTT_URL = process.env.MEDIAFLOW_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const PER_TRIGGER = 8;

/**
 * Two `mediaflow serve` processes' worth (distributed mode: Redis job state) with all three
 * broker triggers configured: they share each broker's messages (competing consumers, a shared
 * MQTT subscription), every message format reaches the orchestrator, duplicates sent to both give
 * one job, and /readyz and /metrics show each consumer.
 */
describe('serve runs the broker consumers', () => {
  const id = crypto.randomBytes(4).toString('hex');
  const queue = `mediaflow-serve-${id}`;
  const subject = `mediaflow-serve.${id}`;
  const topic = `mediaflow-serve/${id}`;
  let s3: EmbeddedS3;
  let dataDir: string;
  let a: ServeHandle;
  let b: ServeHandle;
  let input: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-serve-consumers-'));
    s3 = await startEmbeddedS3({ dataDir, port: 0 });
    input = `in-${id}`;
    const env = {
      REDIS_URL: inject('redisUrl'),
      MEDIAFLOW_S3_ENDPOINT: s3.endpoint,
      MEDIAFLOW_INPUT_BUCKET: input,
      MEDIAFLOW_OUTPUT_BUCKET: `out-${id}`,
      MEDIAFLOW_QUEUE_PREFIX: `consumers-${id}`,
      MEDIAFLOW_SCRATCH_DIR: path.join(dataDir, 'scratch'),
      MEDIAFLOW_PORT: '0',
      MEDIAFLOW_AMQP_URL: AMQP_URL,
      MEDIAFLOW_AMQP_QUEUE: queue,
      MEDIAFLOW_NATS_URL: NATS_URL,
      MEDIAFLOW_NATS_SUBJECT: subject,
      MEDIAFLOW_MQTT_URL: MQTT_URL,
      MEDIAFLOW_MQTT_TOPIC: topic,
      // Small, so the two processes must share the messages.
      MEDIAFLOW_CONSUMER_PREFETCH: '2',
      MEDIAFLOW_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    };
    const log = createLogger(env.MEDIAFLOW_LOG_LEVEL);
    a = await startServe(loadConfig({ ...env, MEDIAFLOW_MQTT_CLIENT_ID: `mf-a-${id}` }), log);
    b = await startServe(loadConfig({ ...env, MEDIAFLOW_MQTT_CLIENT_ID: `mf-b-${id}` }), log);
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await forgetMqttSessions(MQTT_URL, [`mf-a-${id}`, `mf-b-${id}`]);
    const conn = await amqp.connect(AMQP_URL);
    const channel = await conn.createChannel();
    for (const name of [queue, amqpDeadLetterName(queue)]) {
      await channel.deleteQueue(name);
      await channel.deleteExchange(name);
    }
    await conn.close();
    const nc = await connect({ servers: NATS_URL });
    await (await nc.jetstreamManager()).streams.delete(natsStreamName(subject)).catch(() => {});
    await nc.close();
    await s3?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const readyz = async (handle: ServeHandle) =>
    (await (await fetch(`${handle.url}/readyz`)).json()) as { consumers: ConsumerSnapshot[] };

  it('shares every broker between processes and makes one job per object', async () => {
    for (const handle of [a, b])
      await expect
        .poll(async () => (await readyz(handle)).consumers.map((c) => `${c.trigger}:${c.state}`), {
          timeout: 20_000,
        })
        .toEqual(['amqp:ready', 'nats:ready', 'mqtt:ready']);

    const keys = { amqp: [] as string[], nats: [] as string[], mqtt: [] as string[] };
    for (const trigger of ['amqp', 'nats', 'mqtt'] as const)
      for (let i = 0; i < PER_TRIGGER; i++) {
        const key = `${trigger}/photo ${i}.jpg`;
        await a.app.store.putBytes(input, key, `${trigger} ${i}`);
        keys[trigger].push(key);
      }
    const etag = async (key: string) => (await a.app.store.head(input, key))!.etag;

    // AMQP: MinIO's notification, twice each. NATS: the same as a CloudEvent. MQTT: commands.
    const conn = await amqp.connect(AMQP_URL);
    const channel = await conn.createConfirmChannel();
    for (const key of keys.amqp) {
      const body = JSON.stringify(minioNotification(input, key, { etag: await etag(key) }));
      for (let n = 0; n < 2; n++) channel.publish(queue, 'bucketevents', Buffer.from(body));
    }
    await channel.waitForConfirms();
    await conn.close();
    const nc = await connect({ servers: NATS_URL });
    const js = nc.jetstream();
    for (const key of keys.nats) {
      const event = asCloudEvent(minioNotification(input, key, { etag: await etag(key) }), key);
      for (let n = 0; n < 2; n++) await js.publish(subject, JSON.stringify(event));
    }
    await nc.close();
    const publisher = await mqtt.connectAsync(MQTT_URL, { protocolVersion: 5 });
    for (const key of keys.mqtt)
      for (let n = 0; n < 2; n++)
        await publisher.publishAsync(topic, JSON.stringify({ bucket: input, key }), { qos: 1 });
    await publisher.endAsync();

    const all = [...keys.amqp, ...keys.nats, ...keys.mqtt];
    const jobKeys = async () => {
      const page = await a.app.jobs.list({ limit: 200 });
      return page.jobs.map((j) => j.spec.source.key).sort();
    };
    await expect.poll(jobKeys, { timeout: 20_000 }).toEqual([...all].sort());

    const counts = async (trigger: string) => {
      const all = [...(await readyz(a)).consumers, ...(await readyz(b)).consumers];
      return all.filter((s) => s.trigger === trigger).map((s) => s.counts);
    };
    for (const trigger of ['amqp', 'nats', 'mqtt']) {
      const judged = async () =>
        (await counts(trigger)).reduce((n, c) => n + c.created + c.existing + c.adopted, 0);
      await expect.poll(judged, { timeout: 20_000 }).toBe(2 * PER_TRIGGER);
      const mine = await counts(trigger);
      expect(mine.reduce((n, c) => n + c.created, 0)).toBe(PER_TRIGGER);
      // Both processes took part.
      expect(mine.map((c) => c.received > 0)).toEqual([true, true]);
    }
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/mediaflow_trigger_consumer_up\{trigger="amqp",state="ready"\} 1/);
    expect(metrics).toMatch(
      /mediaflow_trigger_messages_total\{trigger="nats",outcome="received"\} \d+/,
    );
  }, 60_000);
});

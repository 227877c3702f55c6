import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../pipeline/app.js';
import type { JobRecord } from '../../pipeline/jobs/job.js';
import type { EventOutcome } from '../../pipeline/triggers/submit-events.js';
import { waitForJobs } from '../../pipeline/jobs/wait.js';
import { copyHandlers, copyWorkflow } from './copy-workflow.js';
import { startEmbeddedApp } from './embedded-app.js';
import type { PrivateBroker } from './private-broker.js';

/** The conformance app writes outputs under this prefix of the input bucket: loops are possible. */
export const OUTPUT_PREFIX = 'derived/';

/** One trigger under test, driven the way its real source drives it. */
export interface TriggerHarness {
  start(app: App): Promise<void>;
  stop(): Promise<void>;
  /**
   * Stores the object (same bytes, same version, when called again) and tells the trigger about
   * it the way its source does: a notification, the store's own upload event, a sweep pass.
   * Each call is one delivery; calling it twice is a duplicate delivery.
   */
  announce(app: App, key: string, body: string): Promise<void>;
  /** Events for this key the trigger has judged so far (submitted or ignored). */
  judged(key: string): number;
  /** Sends a message body as is (triggers that take messages). */
  sendRaw?(body: string): Promise<void>;
  /** Messages refused so far, with the reason the trigger gave. */
  deadLetters?(): Promise<{ body: string; reason: string }[]>;
  /** Drops the connection or restarts the broker, returning once it is back. */
  interrupt?(app: App): Promise<void>;
  /** The consumer's state for /readyz, where the trigger has one. */
  state?(): string;
}

export interface ConformanceOptions {
  /** Objects in the interruption test. */
  interruptObjects?: number;
  timeoutMs?: number;
}

/**
 * The trigger conformance suite: every trigger (webhook, embedded events, sweep, AMQP, NATS,
 * MQTT) must turn a valid event into one job, however often it is delivered, ignore mediaflow's
 * own outputs, refuse malformed messages without dying, and lose nothing across a broker restart
 * or a dropped connection. It runs on a real embedded app with the media-free copy workflow.
 */
export function triggerConformance(
  name: string,
  makeHarness: () => TriggerHarness,
  options: ConformanceOptions = {},
): void {
  const timeoutMs = options.timeoutMs ?? 30_000;
  describe(`trigger conformance: ${name}`, () => {
    let app: Awaited<ReturnType<typeof startEmbeddedApp>>;
    const harness = makeHarness();
    const tag = crypto.randomBytes(3).toString('hex');

    beforeAll(async () => {
      const id = crypto.randomBytes(3).toString('hex');
      app = await startEmbeddedApp(
        { handlers: copyHandlers, workflows: new Map([['image', copyWorkflow]]) },
        {
          MEDIAFLOW_INPUT_BUCKET: `conf-${id}`,
          MEDIAFLOW_OUTPUT_BUCKET: `conf-${id}`,
          MEDIAFLOW_OUTPUT_PREFIX: OUTPUT_PREFIX,
        },
      );
      await harness.start(app);
    }, 60_000);
    afterAll(async () => {
      await harness.stop();
      await app?.close();
    });

    const jobsFor = async (key: string): Promise<JobRecord[]> => {
      const found: JobRecord[] = [];
      let cursor: string | undefined;
      do {
        const page = await app.jobs.list({ limit: 200, ...(cursor ? { cursor } : {}) });
        found.push(...page.jobs.filter((j) => j.spec.source.key === key));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return found;
    };
    const until = async (what: string, check: () => Promise<boolean> | boolean) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
      }
    };
    const judged = async (key: string, count: number) =>
      until(`${count} judged events for ${key}`, () => harness.judged(key) >= count);

    it('a valid event creates a job', async () => {
      // A space, a plus and a slash: MinIO's encoding of each differs from the raw key.
      const key = `valid-${tag}/a b+c (1).jpg`;
      await harness.announce(app, key, 'valid');
      await until('the job', async () => (await jobsFor(key)).length === 1);
      const [job] = await jobsFor(key);
      const [done] = await waitForJobs(
        app.jobs,
        [job!.spec.id],
        undefined,
        AbortSignal.timeout(timeoutMs),
      );
      expect(done?.state).toBe('succeeded');
    });

    it('duplicate deliveries create one job', async () => {
      const key = `dup-${tag}/photo.jpg`;
      for (let i = 0; i < 3; i++) await harness.announce(app, key, 'the same bytes');
      await judged(key, 3);
      const jobs = await jobsFor(key);
      expect(jobs).toHaveLength(1);
    });

    it('an event for the output location is ignored', async () => {
      const key = `${OUTPUT_PREFIX}out-${tag}.jpg/image/part-0.txt`;
      await harness.announce(app, key, 'an output');
      await judged(key, 1);
      expect(await jobsFor(key)).toEqual([]);
      if (harness.deadLetters)
        expect((await harness.deadLetters()).filter((d) => d.body.includes(tag))).toEqual([]);
    });

    it('a malformed message is rejected without crashing the consumer', async (ctx) => {
      if (!harness.sendRaw || !harness.deadLetters) return ctx.skip();
      const unknownPreset = `unknown-preset-${tag}.jpg`;
      const bad = [
        `not json ${tag}`,
        JSON.stringify({ hello: tag }),
        JSON.stringify({ bucket: app.config.buckets.input, key: '', tag }),
        JSON.stringify({ specversion: '1.0', id: tag, source: 'x', type: 'y' }),
        // Well formed, but no redelivery can make the preset exist.
        JSON.stringify({ bucket: app.config.buckets.input, key: unknownPreset, preset: tag }),
      ];
      await putObject(app, unknownPreset, 'an existing object');
      for (const body of bad) await harness.sendRaw(body);
      await until('the dead letters', async () => {
        const dead = (await harness.deadLetters!()).filter((d) => d.body.includes(tag));
        return dead.length === bad.length;
      });
      const dead = (await harness.deadLetters()).filter((d) => d.body.includes(tag));
      expect(dead.map((d) => d.body).sort()).toEqual([...bad].sort());
      for (const d of dead) expect(d.reason).toMatch(/^Expected |JSON|^Unknown preset/);
      // Still consuming.
      const key = `after-bad-${tag}.jpg`;
      await harness.announce(app, key, 'after');
      await until(
        'a job after the malformed messages',
        async () => (await jobsFor(key)).length === 1,
      );
      if (harness.state) expect(harness.state()).toBe('ready');
    });

    it('a broker restart or dropped connection loses no message', async (ctx) => {
      if (!harness.interrupt) return ctx.skip();
      const n = options.interruptObjects ?? 20;
      const keys = Array.from({ length: n }, (_, i) => `restart-${tag}/${i}.jpg`);
      const half = Math.floor(n / 2);
      // Half published just before the interruption, so some are in flight when it hits.
      await Promise.all(keys.slice(0, half).map((k) => harness.announce(app, k, k)));
      await harness.interrupt(app);
      await Promise.all(keys.slice(half).map((k) => harness.announce(app, k, k)));
      let missing: string[] = [];
      await until('a job per object', async () => {
        const counts = await Promise.all(keys.map(async (k) => (await jobsFor(k)).length));
        missing = keys.filter((_, i) => counts[i] === 0);
        return missing.length === 0;
      }).catch((error: Error) => {
        throw new Error(`${error.message}; none for ${missing.join(', ')}`);
      });
      const counts = await Promise.all(keys.map(async (k) => (await jobsFor(k)).length));
      expect(counts).toEqual(keys.map(() => 1));
      await until('the consumer to be ready', () => !harness.state || harness.state() === 'ready');
    });
  });
}

/** Stores an object and returns what a notification about it carries. */
export async function putObject(
  app: App,
  key: string,
  body: string,
): Promise<{ bucket: string; etag: string; size: number }> {
  const bucket = app.config.buckets.input;
  await app.store.putBytes(bucket, key, body);
  const head = await app.store.head(bucket, key);
  if (!head) throw new Error(`${key} vanished after being stored`);
  return { bucket, etag: head.etag, size: head.size };
}

/** Resolves once the consumer is connected and consuming. */
export async function untilReady(consumer: { status: { state: string } }): Promise<void> {
  while (consumer.status.state !== 'ready') await sleep(20);
}

/**
 * Runs the suite against a private broker of this file's own (see private-broker.ts), whose
 * `restart` is the interruption: the shared brokers are never restarted.
 */
export function conformanceOnPrivateBroker(
  name: string,
  start: () => Promise<PrivateBroker>,
  makeHarness: (broker: () => PrivateBroker) => TriggerHarness,
): void {
  let broker: PrivateBroker | undefined;
  beforeAll(async () => {
    broker = await start();
  });
  afterAll(() => broker?.close());
  triggerConformance(name, () =>
    makeHarness(() => {
      if (!broker) throw new Error('the private broker did not start');
      return broker;
    }),
  );
}

/** Fast reconnects and a small prefetch, for consumers under test. */
export const TEST_CONSUMER_OPTIONS = {
  prefetch: 8,
  backoff: { initialMs: 100, maxMs: 1000, stableAfterMs: 5000 },
};

/** A consumer's dependencies on the conformance app, counting judged events for the harness. */
export function consumerDeps(app: App, counter: { onOutcome: (o: EventOutcome) => void }) {
  return {
    orchestrator: app.orchestrator,
    inputBucket: app.config.buckets.input,
    log: app.log,
    onOutcome: counter.onOutcome,
  };
}

/** The interruption for a consumer on a private broker: restart it, then wait for the consumer. */
export function restartOf(
  broker: (() => PrivateBroker) | undefined,
  consumer: () => { status: { state: string } },
): Pick<TriggerHarness, 'interrupt'> {
  if (!broker) return {};
  return {
    async interrupt() {
      await broker().restart();
      await untilReady(consumer());
    },
  };
}

import { isFinal } from '../jobs/job.js';
import type { JobStore } from '../jobs/store.js';
import { endKind, jobCloudEvent } from '../notify/cloudevents.js';
import type { DeliveryResult } from '../notify/webhook.js';

/** A URL that wants to hear about a job, and the principal whose batch asked for it. */
export interface Subscription {
  url: string;
  owner: string;
}

/**
 * Which URLs want to hear about which jobs, from batches' `webhookUrl`. A port with memory and
 * Redis adapters, since in distributed mode any API process may see a job end.
 */
export interface SubscriptionStore {
  add(jobIds: string[], subscription: Subscription): Promise<void>;
  /**
   * Removes and returns a job's subscribers. Atomic: when several API processes see the same job
   * end, each subscription is handed to exactly one of them, so it is notified once.
   */
  take(jobId: string): Promise<Subscription[]>;
}

/** One string per subscription, so a set holds each (owner, URL) pair once. */
const encode = (s: Subscription) => JSON.stringify([s.owner, s.url]);
function decode(member: string): Subscription {
  // Members stored before subscriptions had owners are bare URLs; their owner is unknown.
  if (!member.startsWith('[')) return { owner: 'unknown', url: member };
  const [owner, url] = JSON.parse(member) as [string, string];
  return { owner, url };
}

export class MemorySubscriptionStore implements SubscriptionStore {
  private readonly members = new Map<string, Set<string>>();

  async add(jobIds: string[], subscription: Subscription): Promise<void> {
    for (const id of jobIds)
      this.members.set(id, (this.members.get(id) ?? new Set()).add(encode(subscription)));
  }

  async take(jobId: string): Promise<Subscription[]> {
    const members = [...(this.members.get(jobId) ?? [])];
    this.members.delete(jobId);
    return members.map(decode);
  }
}

/** The Redis commands the adapter needs; an ioredis client satisfies it. */
export interface SubscriptionRedis {
  sadd(key: string, ...members: string[]): Promise<number>;
  pexpire(key: string, milliseconds: number): Promise<number>;
  spop(key: string, count: number): Promise<string[]>;
}

/** Subscriptions outlive any reasonable job; this only bounds what a lost job leaves behind. */
const SUBSCRIPTION_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * SPOP hands each member to one caller only, which is what makes `take` atomic across processes.
 */
export class RedisSubscriptionStore implements SubscriptionStore {
  constructor(
    private readonly redis: SubscriptionRedis,
    private readonly prefix = 'mediaflow:subscriptions:',
  ) {}

  async add(jobIds: string[], subscription: Subscription): Promise<void> {
    for (const id of jobIds) {
      await this.redis.sadd(this.prefix + id, encode(subscription));
      await this.redis.pexpire(this.prefix + id, SUBSCRIPTION_TTL_MS);
    }
  }

  async take(jobId: string): Promise<Subscription[]> {
    return (await this.redis.spop(this.prefix + jobId, 1000)).map(decode);
  }
}

export interface BatchWebhooksDeps {
  jobs: JobStore;
  subscriptions: SubscriptionStore;
  /** Signs, retries and paces deliveries per owner (pipeline/notify's WebhookSender). */
  sender: {
    deliver(
      url: string,
      event: unknown,
      signal?: AbortSignal,
      owner?: string,
    ): Promise<DeliveryResult>;
  };
  log: { warn(o: object, m?: string): void };
  source?: string;
}

/**
 * Per-batch webhooks: a batch submitted with `webhookUrl` gets `job.completed` / `job.failed`
 * CloudEvents (the same events and signature as MEDIAFLOW_NOTIFY_URLS) for each of its jobs when
 * it ends. Jobs are shared between batches (ids derive from the source), so subscriptions are per
 * job; a job that already ended when the batch came is announced at once.
 */
export class BatchWebhooks {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly stopWatching: () => void;

  constructor(private readonly deps: BatchWebhooksDeps) {
    this.stopWatching = deps.jobs.watch((event) => {
      if (event.type === 'job' && isFinal(event.state)) this.track(this.announce(event.jobId));
    });
  }

  async subscribe(jobIds: string[], url: string, owner: string): Promise<void> {
    await this.deps.subscriptions.add(jobIds, { url, owner });
    // A job may have ended before its subscription was stored: its end event is gone.
    for (const id of jobIds) {
      const job = await this.deps.jobs.get(id);
      if (job && isFinal(job.state)) this.track(this.announce(id));
    }
  }

  /** Stops listening and waits for deliveries in flight, at most `timeoutMs`. */
  async close(timeoutMs = 5000): Promise<void> {
    this.stopWatching();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  private async announce(jobId: string): Promise<void> {
    const subscriptions = await this.deps.subscriptions.take(jobId);
    if (subscriptions.length === 0) return;
    const job = await this.deps.jobs.get(jobId);
    if (!job) return;
    const event = jobCloudEvent(job, endKind(job.state), {
      source: this.deps.source ?? '/mediaflow/jobs',
    });
    await Promise.all(
      subscriptions.map((s) => this.deps.sender.deliver(s.url, event, undefined, s.owner)),
    );
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) =>
      this.deps.log.warn({ err: (error as Error).message }, 'batch webhook failed'),
    );
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}

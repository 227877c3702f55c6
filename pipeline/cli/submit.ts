import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MediaflowError } from '../../functions/errors.js';
import { type ApiClient, ApiRequestError } from './api-client.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { RemoteProgressBars, type RemoteJobState } from './remote-progress.js';

export interface SubmitOptions {
  preset?: string;
  /** Redo objects whose jobs succeeded (the API's `force: true`). */
  force?: boolean;
  wait: boolean;
  prefix: boolean;
  json: boolean;
}

interface SubmitResponse {
  jobIds: string[];
  items: {
    bucket: string;
    key: string;
    status: 'created' | 'existing' | 'adopted' | 'reprocessing' | 'ignored';
    jobId?: string;
    preset?: string;
    reason?: string;
  }[];
}

type Batch = { items: { bucket: string; key: string }[] } | { bucket: string; prefix: string };

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const ATTEMPTS = 3;

/**
 * `mediaflow submit`: sends the objects to the API as batches, prints the job ids (one per line
 * on stdout, for scripts), and with --wait follows them to the end with progress bars.
 */
export async function runSubmit(
  targets: string[],
  options: SubmitOptions,
  client: ApiClient,
): Promise<ExitCode> {
  const batches = toBatches(targets, options.prefix);
  const labels = new Map<string, string>();
  const jobIds: string[] = [];
  // An object named on the command line that makes no job is an error: a typo in a CI script must
  // not pass. Objects under a prefix may be skipped (folder markers, outputs) without one.
  let refused: ExitCode = EXIT.OK;
  for (const batch of batches) {
    const response = await submitWithRetries(client, {
      ...batch,
      ...(options.preset ? { preset: options.preset } : {}),
      ...(options.force ? { force: true } : {}),
    });
    for (const item of response.items) {
      if (item.status === 'ignored') {
        process.stderr.write(
          `${'ignored'.padEnd(9)} ${item.bucket}/${item.key} (${item.reason})\n`,
        );
        if ('items' in batch) refused = item.reason === 'missing' ? EXIT.NOT_FOUND : EXIT.USAGE;
      } else if (item.jobId && !labels.has(item.jobId)) {
        labels.set(
          item.jobId,
          `${item.bucket}/${item.key}${item.preset ? ` (${item.preset})` : ''}`,
        );
        jobIds.push(item.jobId);
      }
    }
    if ('prefix' in batch && response.items.length === 0) {
      process.stderr.write(`${'ignored'.padEnd(9)} ${batch.bucket}/${batch.prefix} (no objects)\n`);
      refused = EXIT.NOT_FOUND;
    }
  }
  if (!options.json) for (const id of jobIds) process.stdout.write(`${id}\n`);
  if (!options.wait) {
    if (options.json) process.stdout.write(JSON.stringify({ jobIds }) + '\n');
    return refused;
  }
  const final = await waitForJobs(client, jobIds, labels);
  if (options.json) process.stdout.write(JSON.stringify({ jobs: [...final.values()] }) + '\n');
  if (refused !== EXIT.OK) return refused;
  return [...final.values()].every((j) => j.state === 'succeeded') ? EXIT.OK : EXIT.JOB_FAILED;
}

/**
 * `bucket/key` is one object; `bucket/prefix/` (trailing slash) or any argument with --prefix is
 * every object under that prefix. `s3://` in front is allowed. Objects go in one batch.
 */
export function toBatches(targets: string[], allPrefixes: boolean): Batch[] {
  const items: { bucket: string; key: string }[] = [];
  const batches: Batch[] = [];
  for (const raw of targets) {
    const target = raw.replace(/^s3:\/\//, '');
    const slash = target.indexOf('/');
    const bucket = slash < 0 ? target : target.slice(0, slash);
    const rest = slash < 0 ? '' : target.slice(slash + 1);
    if (!bucket)
      throw new MediaflowError(
        'REQUEST_INVALID',
        `Expected bucket/key or bucket/prefix/ but received ${JSON.stringify(raw)}`,
      );
    if (allPrefixes || rest === '' || rest.endsWith('/')) batches.push({ bucket, prefix: rest });
    else items.push({ bucket, key: rest });
  }
  return items.length ? [{ items }, ...batches] : batches;
}

/**
 * One Idempotency-Key per batch, reused on retries: if an answer is lost on the way back, the
 * retry gets the same batch instead of submitting it twice.
 */
async function submitWithRetries(client: ApiClient, body: object): Promise<SubmitResponse> {
  const key = crypto.randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.request<SubmitResponse>('POST', '/v1/jobs', body, {
        'idempotency-key': key,
      });
    } catch (error) {
      const transient =
        error instanceof ApiRequestError &&
        (error.status === 0 ||
          error.status === 429 ||
          error.status === 503 ||
          (error.code === 'IDEMPOTENCY_CONFLICT' && error.retryAfterSeconds !== undefined));
      if (!transient || attempt >= ATTEMPTS) throw error;
      await sleep(Math.min(10, error.retryAfterSeconds ?? attempt) * 1000);
    }
  }
}

/**
 * Follows jobs to their end over one SSE stream of every job's changes (one connection however
 * many jobs), after reading each once, so a job that ended before the stream opened is seen too.
 */
async function waitForJobs(
  client: ApiClient,
  ids: string[],
  labels: Map<string, string>,
): Promise<Map<string, RemoteJobState>> {
  const final = new Map<string, RemoteJobState>();
  if (ids.length === 0) return final;
  const bars = new RemoteProgressBars();
  for (const id of ids) bars.add(id, labels.get(id) ?? id);
  const wanted = new Set(ids);
  const controller = new AbortController();
  const seen = (job: RemoteJobState) => {
    if (!wanted.has(job.id)) return;
    bars.update(job);
    if (FINAL.has(job.state)) final.set(job.id, job);
    if (final.size === wanted.size) controller.abort();
  };
  try {
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const stream = client.events(
      '/v1/jobs/events',
      (name, data) => name === 'job' && seen(data as RemoteJobState),
      controller.signal,
      opened,
    );
    stream.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
    // Only once the stream listens are the jobs read: a change in between cannot be missed.
    await Promise.race([open, stream]);
    for (const id of ids)
      if (!controller.signal.aborted)
        seen(await client.request<RemoteJobState>('GET', `/v1/jobs/${id}`));
    await stream;
    if (final.size < wanted.size)
      throw new ApiRequestError(
        0,
        'UNAVAILABLE',
        'The API closed the progress stream before the jobs ended',
      );
  } finally {
    controller.abort();
    bars.stop();
  }
  return final;
}

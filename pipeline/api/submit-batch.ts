import PQueue from 'p-queue';
import type { Orchestrator } from '../jobs/orchestrator.js';
import { findPreset } from '../presets/builtin.js';
import type { ObjectStore } from '../storage/port.js';
import { ApiError } from './http-errors.js';
import type { SubmitBody, SubmitResponse } from './schemas.js';

export interface BatchDeps {
  orchestrator: Orchestrator;
  store: ObjectStore;
  inputBucket: string;
  /** The buckets a batch may name (MEDIAFLOW_INPUT_BUCKET); any other is a 403. */
  inputBuckets: readonly string[];
  maxItems: number;
  /** Called with each job's id before the job is created (the API records its owner there). */
  onJobId?: (jobId: string) => Promise<void>;
}

/** Submissions in flight at once: each is a HEAD and a job-store write, so a few overlap well. */
const SUBMIT_CONCURRENCY = 8;

/**
 * Turns a batch request into jobs. The whole batch is checked before anything is submitted
 * (preset, item count), so a rejected batch creates no job. A failure part-way (storage away)
 * fails the request; retrying it is safe because job ids are derived from the source, so items
 * submitted the first time come back as `existing`. An item routed to several presets answers once
 * per preset (each with its job).
 */
export async function submitBatch(body: SubmitBody, deps: BatchDeps): Promise<SubmitResponse> {
  if (body.preset !== undefined) findPreset(body.preset, deps.orchestrator.presets);
  // Checked before anything is listed or read: the service's credentials may reach buckets that
  // belong to other applications.
  for (const bucket of [body.bucket, ...(body.items ?? []).map((item) => item.bucket)])
    if (bucket !== undefined && !deps.inputBuckets.includes(bucket))
      throw new ApiError(
        'FORBIDDEN',
        `Bucket ${JSON.stringify(bucket)} is not an input bucket; allowed: ` +
          deps.inputBuckets.join(', '),
      );
  const items =
    body.items ?? (await listPrefix(deps, body.bucket ?? deps.inputBucket, body.prefix ?? ''));
  if (items.length > deps.maxItems)
    throw tooMany(
      items.length > deps.maxItems + 1 ? `more than ${deps.maxItems + 1}` : String(items.length),
      deps.maxItems,
    );

  const queue = new PQueue({ concurrency: SUBMIT_CONCURRENCY });
  const results = (
    await Promise.all(
      items.map((item) =>
        queue.add(async () => {
          const outcomes = await deps.orchestrator.submitAll({
            bucket: item.bucket,
            key: item.key,
            ...(body.preset ? { preset: body.preset } : {}),
            ...(body.force ? { force: true } : {}),
            ...(deps.onJobId ? { onJobId: deps.onJobId } : {}),
          });
          return outcomes.map((outcome) =>
            outcome.status === 'ignored'
              ? { ...item, status: outcome.status, reason: outcome.reason }
              : { ...item, ...outcome },
          );
        }),
      ),
    )
  ).flat();
  const jobIds = [...new Set(results.flatMap((r) => ('jobId' in r && r.jobId ? [r.jobId] : [])))];
  return { jobIds, items: results };
}

/** Lists at most one more object than allowed: enough to know the batch is too large. */
async function listPrefix(
  deps: BatchDeps,
  bucket: string,
  prefix: string,
): Promise<{ bucket: string; key: string }[]> {
  const items: { bucket: string; key: string }[] = [];
  for await (const object of deps.store.list(bucket, prefix)) {
    // Folder markers (zero-byte keys ending in '/') made by consoles are not media.
    if (object.key.endsWith('/')) continue;
    items.push({ bucket, key: object.key });
    if (items.length > deps.maxItems) break;
  }
  return items;
}

function tooMany(count: string, max: number): ApiError {
  return new ApiError(
    'PAYLOAD_TOO_LARGE',
    `Expected at most ${max} items in a batch but received ${count}; split it into several ` +
      `requests`,
  );
}

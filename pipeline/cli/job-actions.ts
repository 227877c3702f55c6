import type { JobSummary, JobView } from '../api/schemas.js';
import { ApiRequestError, type ApiClient } from './api-client.js';
import { EXIT, type ExitCode } from './exit-codes.js';

const path = (id: string) => `/v1/jobs/${encodeURIComponent(id)}`;

/** `mediaflow cancel <id>`: stops the job (its processes are killed) and prints its new state. */
export async function runCancel(
  id: string,
  options: { json: boolean },
  client: ApiClient,
): Promise<ExitCode> {
  const job = await client.request<JobView>('DELETE', path(id));
  print(job, options.json);
  return EXIT.OK;
}

/**
 * `mediaflow retry <id>` runs a failed or cancelled job again in place. `retry --failed` does so
 * for every failed job whose error may pass on a second try; a permanent error (corrupt input, an
 * unknown codec) would only fail again, so those are listed and left alone.
 */
export async function runRetry(
  id: string | undefined,
  options: { failed: boolean; json: boolean },
  client: ApiClient,
): Promise<ExitCode> {
  if (id && options.failed)
    throw new ApiRequestError(400, 'REQUEST_INVALID', 'Expected a job id or --failed, not both');
  if (id) {
    print(await client.request<JobView>('POST', `${path(id)}/retry`, {}), options.json);
    return EXIT.OK;
  }
  if (!options.failed)
    throw new ApiRequestError(400, 'REQUEST_INVALID', 'Expected a job id or --failed');
  const failed = await listFailed(client);
  const retried: string[] = [];
  const skipped: JobSummary[] = [];
  for (const job of failed) {
    if (job.error && !job.error.retryable) {
      skipped.push(job);
      continue;
    }
    try {
      await client.request<JobView>('POST', `${path(job.id)}/retry`, {});
      retried.push(job.id);
    } catch (error) {
      // Another operator retried it first, or its source is gone: report and go on.
      if (!(error instanceof ApiRequestError) || error.exitCode !== EXIT.USAGE) throw error;
      process.stderr.write(`not retried ${job.id}: ${error.code} ${error.message}\n`);
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify({ retried, skipped })}\n`);
  else for (const jobId of retried) process.stdout.write(`${jobId}\n`);
  for (const job of skipped)
    process.stderr.write(
      `skipped ${job.id}: ${job.error?.code} is permanent (mediaflow retry ${job.id} forces it)\n`,
    );
  process.stderr.write(
    `retried ${retried.length} failed job(s)` +
      `${skipped.length ? `, skipped ${skipped.length} with permanent errors` : ''}\n`,
  );
  return EXIT.OK;
}

/** Every failed job, read page by page before any is retried (a retried job leaves the list). */
async function listFailed(client: ApiClient): Promise<JobSummary[]> {
  const jobs: JobSummary[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ state: 'failed', limit: '100' });
    if (cursor) query.set('cursor', cursor);
    const page: { jobs: JobSummary[]; nextCursor: string | null } = await client.request(
      'GET',
      `/v1/jobs?${query}`,
    );
    jobs.push(...page.jobs);
    cursor = page.nextCursor;
  } while (cursor);
  return jobs;
}

function print(job: JobView, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(job, null, 2)}\n` : `${job.id} ${job.state}\n`);
}

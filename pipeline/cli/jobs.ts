import type { JobSummary } from '../api/schemas.js';
import type { ApiClient } from './api-client.js';
import { EXIT, type ExitCode } from './exit-codes.js';

/** `mediaflow jobs [--state S] [--search TEXT]`: the newest jobs, one line each. */
export async function runJobs(
  options: { state?: string; search?: string; limit: string; cursor?: string; json: boolean },
  client: ApiClient,
): Promise<ExitCode> {
  const query = new URLSearchParams({
    limit: options.limit,
    ...(options.state ? { state: options.state } : {}),
    ...(options.search ? { q: options.search } : {}),
    ...(options.cursor ? { cursor: options.cursor } : {}),
  });
  const page = await client.request<{ jobs: JobSummary[]; nextCursor: string | null }>(
    'GET',
    `/v1/jobs?${query}`,
  );
  if (options.json) {
    process.stdout.write(JSON.stringify(page, null, 2) + '\n');
    return EXIT.OK;
  }
  for (const job of page.jobs) {
    process.stdout.write(
      `${job.id}  ${job.state.padEnd(9)} ` +
        `${String(Math.round(job.progress * 100)).padStart(3)}%  ${job.preset.padEnd(10)} ` +
        `s3://${job.source.bucket}/${job.source.key}${job.error ? `  ${job.error.code}` : ''}\n`,
    );
  }
  if (page.jobs.length === 0) process.stderr.write('no jobs\n');
  if (page.nextCursor)
    process.stderr.write(
      `more: mediaflow jobs --cursor ${page.nextCursor}` +
        `${options.state ? ` --state ${options.state}` : ''}` +
        `${options.search ? ` --search ${JSON.stringify(options.search)}` : ''}\n`,
    );
  return EXIT.OK;
}

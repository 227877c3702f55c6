import type { JobView } from '../api/schemas.js';
import { formatBytes } from './demo.js';
import type { ApiClient } from './api-client.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { formatSeconds } from '../jobs/timeline.js';

/** `mediaflow status <id>`: one job's state, per-task progress, outputs and error. */
export async function runStatus(
  id: string,
  options: { json: boolean },
  client: ApiClient,
): Promise<ExitCode> {
  const job = await client.request<JobView>('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  if (options.json) {
    process.stdout.write(JSON.stringify(job, null, 2) + '\n');
    return EXIT.OK;
  }
  const lines = [
    `job      ${job.id}`,
    `source   s3://${job.source.bucket}/${job.source.key}`,
    `preset   ${job.preset}`,
    `state    ${job.state} (${Math.round(job.progress * 100)}%)`,
    `updated  ${job.updatedAt}`,
  ];
  if (job.currentStage) lines.push(`now      ${job.currentStage}`);
  if (job.etaSeconds !== undefined) lines.push(`eta      ${formatSeconds(job.etaSeconds)}`);
  if (job.error) lines.push(`error    ${job.error.code}: ${job.error.message}`);
  if (job.tasks.length) {
    lines.push('tasks');
    for (const t of job.tasks)
      lines.push(
        `  ${t.id.padEnd(16)} ${t.kind.padEnd(12)} ${t.state.padEnd(10)} ` +
          `${String(Math.round(t.progress * 100)).padStart(3)}%  ${taskTime(t).padEnd(8)}` +
          (t.attempts > 1 ? `  (${t.attempts} attempts)` : '') +
          (t.error ? `  ${t.error.code}` : ''),
      );
  }
  if (job.outputs.length) {
    lines.push('outputs');
    for (const o of job.outputs)
      lines.push(`  s3://${job.outputBucket}/${o.key}  ${formatBytes(o.bytes)}  ${o.role}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.OK;
}

/** A task's duration so far, or until it ended; empty before it started. */
function taskTime(task: JobView['tasks'][number]): string {
  if (!task.startedAt) return '';
  const end = task.endedAt ? Date.parse(task.endedAt) : Date.now();
  return formatSeconds((end - Date.parse(task.startedAt)) / 1000);
}

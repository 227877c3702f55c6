import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MediaflowError } from '../../functions/errors.js';
import { createApp } from '../app.js';
import type { Config } from '../config/load.js';
import type { JobRecord } from '../jobs/job.js';
import type { EventOutcome } from '../triggers/submit-events.js';
import { waitForJobs } from '../jobs/wait.js';
import type { Logger } from '../log.js';
import { contentTypeFor } from '../storage/content-type.js';
import { listenToEmbeddedEvents } from '../triggers/embedded-events.js';
import { EXIT } from './exit-codes.js';
import { JobProgressBars } from './progress.js';
import { embeddedS3Line } from './embedded-banner.js';

/** Media files shipped in samples/ (sub-folders hold assets such as the watermark logo). */
export function listSamples(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter(
      (e) =>
        e.isFile() && /\.(mp4|mov|mkv|webm|jpe?g|png|webp|gif|mp3|wav|flac|m4a)$/i.test(e.name),
    )
    .map((e) => path.join(dir, e.name))
    .sort();
}

/**
 * The embedded demo: uploads the samples to the input bucket as a user would, lets the store's
 * upload events trigger the jobs, shows progress, and prints every job's outputs.
 */
export async function runDemo(
  config: Config,
  log: Logger,
  samplesDir: string,
  logFile?: string,
): Promise<number> {
  const files = listSamples(samplesDir);
  if (files.length === 0) {
    process.stderr.write(`No samples found in ${samplesDir}\n`);
    return EXIT.USAGE;
  }
  const app = await createApp(config, log);
  try {
    // Routes can give one upload several jobs, or none: every outcome is kept.
    const submitted = new Map<string, EventOutcome['outcome'][]>();
    if (!app.embedded)
      throw new MediaflowError(
        'CONFIG_INVALID',
        'the demo runs on the embedded store; unset MEDIAFLOW_S3_ENDPOINT',
      );
    const stop = listenToEmbeddedEvents(
      app.embedded,
      app.orchestrator,
      config.buckets.input,
      log,
      ({ event, outcome }) => {
        if (event.type === 'created')
          submitted.set(event.key, [...(submitted.get(event.key) ?? []), outcome]);
      },
    );
    process.stderr.write(
      `mediaflow demo: ${embeddedS3Line(app, config)}; uploading ${files.length} samples\n`,
    );

    const keys = files.map((file) => `samples/${path.basename(file)}`);
    await Promise.all(
      files.map((file, i) =>
        app.store.upload(config.buckets.input, keys[i]!, file, {
          contentType: contentTypeFor(file),
        }),
      ),
    );

    // Jobs start from the upload events, not from this loop: wait until each has been announced.
    const deadline = Date.now() + 30_000;
    while (keys.some((k) => !submitted.has(k)) && Date.now() < deadline) await sleep(50);
    stop();
    const missing = keys.filter((k) => !submitted.has(k));
    if (missing.length)
      throw new MediaflowError('INTERNAL', `no upload event arrived for ${missing.join(', ')}`);

    const bars = new JobProgressBars();
    const ids: string[] = [];
    for (const key of keys)
      for (const outcome of submitted.get(key)!) {
        if (outcome.status === 'ignored') {
          process.stderr.write(`the upload of ${key} was ignored (${outcome.reason})\n`);
          continue;
        }
        bars.add(outcome.jobId, `${key} (${outcome.preset})`);
        ids.push(outcome.jobId);
      }
    const finished = await waitForJobs(app.jobs, ids, (job) => bars.update(job));
    bars.stop();
    printOutcomes(finished, config.buckets.output);
    const ok = finished.every((j) => j.state === 'succeeded');
    // The jobs are kept in the data folder: serve shows them, with players and downloads.
    const dashboard = `http://${config.api.host}:${config.api.port}/`;
    process.stdout.write(`\nbrowse the results: npx mediaflow serve -> ${dashboard}\n`);
    if (!ok && logFile) process.stderr.write(`details: ${logFile}\n`);
    return ok ? EXIT.OK : EXIT.JOB_FAILED;
  } finally {
    await app.close();
  }
}

function printOutcomes(jobs: JobRecord[], bucket: string): void {
  for (const job of jobs) {
    const head =
      `\n${job.spec.source.key} -> ${job.state} (job ${job.spec.id}, preset ` +
      `${job.spec.preset.name})`;
    process.stdout.write(head + '\n');
    if (job.error) process.stdout.write(`  error ${job.error.code}: ${job.error.message}\n`);
    // HLS segments would drown the list; they are summed up in one line.
    const segments = job.outputs.filter((o) => o.role === 'hls-segment');
    for (const o of job.outputs.filter((o) => o.role !== 'hls-segment'))
      process.stdout.write(`  s3://${bucket}/${o.key}  ${formatBytes(o.bytes)}\n`);
    if (segments.length)
      process.stdout.write(
        `  + ${segments.length} HLS segments, ` +
          `${formatBytes(segments.reduce((sum, o) => sum + o.bytes, 0))}\n`,
      );
    if (job.state === 'succeeded')
      process.stdout.write(`  s3://${bucket}/${job.spec.outputPrefix}manifest.json\n`);
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

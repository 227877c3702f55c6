import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MediaflowError, toErrorRecord, type ErrorRecord } from '../../functions/errors.js';
import { createApp } from '../app.js';
import type { Config } from '../config/load.js';
import { MANIFEST_NAME } from '../jobs/manifest.js';
import { findPreset } from '../presets/builtin.js';
import { waitForJobs } from '../jobs/wait.js';
import type { Logger } from '../log.js';
import { presetNameFor } from '../presets/builtin.js';
import { contentTypeFor } from '../storage/content-type.js';
import { EXIT } from './exit-codes.js';
import { JobProgressBars } from './progress.js';

export interface ProcessReport {
  input: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  jobId?: string;
  outputDir?: string;
  outputs?: { key: string; file: string; bytes: number; role: string }[];
  error?: Pick<ErrorRecord, 'code' | 'message'>;
}

/**
 * The `mediaflow process` command (runProcess in functions/ffmpeg spawns media processes).
 * Runs the pipeline on local files in a private embedded store, then copies each input's outputs
 * and manifest to `outDir/<input file name>/`.
 */
export async function runProcessCommand(
  files: string[],
  options: { preset?: string; out: string; json: boolean },
  baseConfig: Config,
  log: Logger,
  logFile?: string,
): Promise<number> {
  // Usage problems end the command before any store starts, with exit code 2.
  checkInputs(files);
  if (options.preset) findPreset(options.preset, baseConfig.catalog.presets);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-process-'));
  const config: Config = { ...baseConfig, embedded: { dataDir, port: 0 } };
  const app = await createApp(config, log);
  // One slot per input, so the report follows the command line whatever order the inputs end in.
  const reports: ProcessReport[] = new Array(files.length);
  try {
    const bars = options.json ? undefined : new JobProgressBars();
    const started: { index: number; file: string; jobId: string }[] = [];
    for (const [index, file] of files.entries()) {
      try {
        const key = `process/${path.basename(file)}`;
        await app.store.upload(config.buckets.input, key, path.resolve(file), {
          contentType: contentTypeFor(file),
        });
        const outcome = await app.orchestrator.submit({
          bucket: config.buckets.input,
          key,
          // Local files have no upload key for routes to match: the preset is named or picked
          // by media type.
          preset: options.preset ?? presetNameFor(key, contentTypeFor(file)),
        });
        if (outcome.status === 'ignored')
          throw new MediaflowError('REQUEST_INVALID', `not processed: ${outcome.reason}`);
        bars?.add(outcome.jobId, path.basename(file));
        started.push({ index, file, jobId: outcome.jobId });
      } catch (error) {
        const { code, message } = toErrorRecord(error);
        reports[index] = { input: file, status: 'failed', error: { code, message } };
      }
    }
    const finished = await waitForJobs(
      app.jobs,
      started.map((s) => s.jobId),
      (job) => bars?.update(job),
    );
    bars?.stop();
    for (const [i, job] of finished.entries()) {
      const { index, file } = started[i]!;
      if (job.state !== 'succeeded') {
        reports[index] = {
          input: file,
          status: job.state === 'cancelled' ? 'cancelled' : 'failed',
          jobId: job.spec.id,
          ...(job.error ? { error: { code: job.error.code, message: job.error.message } } : {}),
        };
        continue;
      }
      const outputDir = path.resolve(options.out, path.basename(file));
      fs.mkdirSync(outputDir, { recursive: true });
      const outputs = [];
      for (const o of [
        ...job.outputs,
        { key: job.spec.outputPrefix + MANIFEST_NAME, bytes: 0, role: 'manifest' },
      ]) {
        const target = path.join(outputDir, o.key.slice(job.spec.outputPrefix.length));
        fs.mkdirSync(path.dirname(target), { recursive: true });
        const info = await app.store.download(job.spec.outputBucket, o.key, target);
        outputs.push({ key: o.key, file: target, bytes: info.size, role: o.role });
      }
      reports[index] = { input: file, status: 'succeeded', jobId: job.spec.id, outputDir, outputs };
    }
  } finally {
    await app.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  if (options.json) process.stdout.write(JSON.stringify({ inputs: reports }, null, 2) + '\n');
  else
    for (const r of reports)
      process.stdout.write(
        `${r.input}: ${r.status}` +
          (r.outputDir ? ` -> ${r.outputDir} (${r.outputs?.length} files)` : '') +
          (r.error ? ` ${r.error.code}: ${r.error.message}` : '') +
          '\n',
      );
  const ok = reports.every((r) => r.status === 'succeeded');
  if (!ok && logFile) process.stderr.write(`details: ${logFile}\n`);
  return ok ? EXIT.OK : EXIT.JOB_FAILED;
}

/**
 * Refuses the command before anything is uploaded when an input is not a readable file, or when
 * two inputs share a file name: inputs share one key and one output folder per file name, so a
 * second `clip.mp4` would overwrite the first's source mid-job and its outputs. Every problem is
 * named in one line.
 */
function checkInputs(files: string[]): void {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const file of files) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      problems.push(`no file ${file}`);
      continue;
    }
    if (!stat.isFile()) {
      problems.push(`${file} is ${stat.isDirectory() ? 'a directory' : 'not a file'}`);
      continue;
    }
    const name = path.basename(file);
    if (names.has(name))
      problems.push(`${name} given twice (outputs go to <out>/${name}/; rename one)`);
    names.add(name);
  }
  if (problems.length)
    throw new MediaflowError('REQUEST_INVALID', `Expected readable files: ${problems.join('; ')}`);
}

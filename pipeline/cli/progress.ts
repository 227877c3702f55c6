import cliProgress from 'cli-progress';
import { jobProgress, type JobRecord } from '../jobs/job.js';
import { currentStage, etaSeconds } from '../jobs/timeline.js';
import { barStatus } from './remote-progress.js';

/**
 * One progress bar per job on stderr. When stderr is not a terminal (CI, pipes), bars would be
 * noise, so each job prints one line when it ends instead.
 */
export class JobProgressBars {
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly multibar: cliProgress.MultiBar | undefined;
  private readonly announced = new Set<string>();
  private readonly labels = new Map<string, string>();

  constructor(interactive = Boolean(process.stderr.isTTY)) {
    this.multibar = interactive
      ? new cliProgress.MultiBar(
          {
            format: ' {bar} {percentage}% | {label} | {state}',
            hideCursor: true,
            clearOnComplete: false,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  }

  add(jobId: string, label: string): void {
    if (this.multibar && !this.bars.has(jobId))
      this.bars.set(jobId, this.multibar.create(100, 0, { label, state: 'queued' }));
    if (!this.multibar) process.stderr.write(`${'queued'.padEnd(9)} ${label} (${jobId})\n`);
    this.labels.set(jobId, label);
  }

  update(job: JobRecord): void {
    const id = job.spec.id;
    const bar = this.bars.get(id);
    const percent = Math.round(jobProgress(job) * 100);
    if (bar)
      bar.update(percent, {
        state: barStatus({
          state: job.state,
          currentStage: currentStage(job),
          etaSeconds: etaSeconds(job),
        }),
      });
    else if (['succeeded', 'failed', 'cancelled'].includes(job.state) && !this.announced.has(id)) {
      this.announced.add(id);
      const error = job.error ? `: ${job.error.code} ${job.error.message}` : '';
      process.stderr.write(`${job.state.padEnd(9)} ${this.labels.get(id) ?? id}${error}\n`);
    }
  }

  stop(): void {
    this.multibar?.stop();
  }
}

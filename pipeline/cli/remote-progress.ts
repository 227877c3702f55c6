import cliProgress from 'cli-progress';
import { formatSeconds } from '../jobs/timeline.js';

/** What the API tells about a job's progress (a summary or a full view). */
export interface RemoteJobState {
  id: string;
  state: string;
  progress: number;
  error?: { code: string; message: string };
  currentStage?: string;
  etaSeconds?: number;
}

/** What a bar says after the label: "running | stage 3/5: transcode×8 | ETA 1 min 5 s". */
export function barStatus(job: Pick<RemoteJobState, 'state' | 'currentStage' | 'etaSeconds'>) {
  return [
    job.state,
    job.currentStage,
    job.etaSeconds === undefined ? undefined : `ETA ${formatSeconds(job.etaSeconds)}`,
  ]
    .filter(Boolean)
    .join(' | ');
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * Progress bars for jobs followed over the API, on stderr. Like JobProgressBars for local jobs,
 * but fed with the API's already rolled-up progress. Without a terminal each job prints one line
 * when it ends instead of bars.
 */
export class RemoteProgressBars {
  private readonly multibar: cliProgress.MultiBar | undefined;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly labels = new Map<string, string>();
  private readonly announced = new Set<string>();

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

  add(id: string, label: string): void {
    this.labels.set(id, label);
    if (this.multibar && !this.bars.has(id))
      this.bars.set(id, this.multibar.create(100, 0, { label, state: 'queued' }));
  }

  update(job: RemoteJobState): void {
    const bar = this.bars.get(job.id);
    if (bar) bar.update(Math.round(job.progress * 100), { state: barStatus(job) });
    else if (FINAL.has(job.state) && this.labels.has(job.id) && !this.announced.has(job.id)) {
      this.announced.add(job.id);
      const error = job.error ? `: ${job.error.code} ${job.error.message}` : '';
      process.stderr.write(`${job.state.padEnd(9)} ${this.labels.get(job.id)}${error}\n`);
    }
  }

  stop(): void {
    this.multibar?.stop();
  }
}

import type { ChaosCounts } from './chaos.js';
import type { SoakInput } from './inputs.js';

/** A job as the admin API shows it (the fields the soak judges). */
export interface JobSeen {
  id: string;
  state: string;
  source: { key: string };
  error?: { code: string; message: string };
  tasks?: { id: string; state: string }[];
}

export interface UploadVerdict {
  key: string;
  kind: SoakInput['kind'];
  /** How many jobs this upload made: exactly 1 is right. */
  jobs: number;
  jobId?: string;
  state?: string;
  code?: string;
  ok: boolean;
  problem?: string;
}

export interface SoakReport {
  ok: boolean;
  violations: string[];
  uploads: UploadVerdict[];
  totals: {
    uploads: number;
    succeeded: number;
    failedTyped: number;
    failedUntyped: number;
    stuck: number;
    duplicates: number;
    missing: number;
    leftoverScratch: number;
    orphanProcesses: number;
    serveExits: number;
    wallSeconds: number;
  };
  chaos: ChaosCounts;
  leftoverScratch: string[];
  webhookFailures: string[];
  logs?: string;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
/** Codes that say "we do not know what went wrong": never the answer for a corrupt input. */
const UNTYPED = new Set(['INTERNAL']);

/** One upload's verdict: one job, ended, succeeded when good, failed with a typed code when not. */
function verdict(input: SoakInput, jobs: JobSeen[]): UploadVerdict {
  const base = { key: input.key, kind: input.kind, jobs: jobs.length };
  if (jobs.length === 0) return { ...base, ok: false, problem: 'no job' };
  const job = jobs[0]!;
  const seen = {
    ...base,
    jobId: job.id,
    state: job.state,
    ...(job.error ? { code: job.error.code } : {}),
  };
  const problem = (text: string) => ({ ...seen, ok: false, problem: text });
  if (jobs.length > 1) return problem(`duplicate jobs ${jobs.map((j) => j.id).join(', ')}`);
  if (!FINAL.has(job.state)) return problem(`stuck ${job.state}`);
  const open = (job.tasks ?? []).filter((t) => t.state === 'queued' || t.state === 'running');
  if (open.length)
    return problem(`${job.state} with tasks ${open.map((t) => `${t.id}=${t.state}`).join(' ')}`);
  if (input.kind === 'corrupt') {
    if (job.state !== 'failed') return problem(`a corrupt input ${job.state}`);
    if (!job.error || UNTYPED.has(job.error.code)) return problem('failed without a typed code');
  } else if (job.state !== 'succeeded') {
    return problem(`a good input ${job.state}: ${job.error?.message ?? ''}`.slice(0, 300));
  }
  return { ...seen, ok: true };
}

export function judge(seen: {
  inputs: SoakInput[];
  views: JobSeen[];
  counts: ChaosCounts;
  webhookFailures: string[];
  scratch: string[];
  orphans: number[];
  serveExits: number;
  wallSeconds: number;
}): SoakReport {
  const uploads = seen.inputs.map((input) =>
    verdict(
      input,
      seen.views.filter((v) => v.source.key === input.key),
    ),
  );
  const failed = uploads.filter((u) => u.state === 'failed');
  const totals = {
    uploads: uploads.length,
    succeeded: uploads.filter((u) => u.state === 'succeeded').length,
    failedTyped: failed.filter((u) => u.code && !UNTYPED.has(u.code)).length,
    failedUntyped: failed.filter((u) => !u.code || UNTYPED.has(u.code)).length,
    stuck: seen.views.filter((v) => !FINAL.has(v.state)).length,
    duplicates: uploads.reduce((sum, u) => sum + Math.max(0, u.jobs - 1), 0),
    missing: uploads.filter((u) => u.jobs === 0).length,
    leftoverScratch: seen.scratch.length,
    orphanProcesses: seen.orphans.length,
    serveExits: seen.serveExits,
    wallSeconds: seen.wallSeconds,
  };
  const violations = [
    ...uploads.filter((u) => !u.ok).map((u) => `${u.key}: ${u.problem}`),
    ...seen.webhookFailures,
    ...(totals.leftoverScratch
      ? [`leftover scratch: ${seen.scratch.slice(0, 10).join(', ')}`]
      : []),
    ...(totals.orphanProcesses ? [`orphan media processes: pids ${seen.orphans.join(' ')}`] : []),
    ...(totals.serveExits ? ['serve exited during the soak'] : []),
  ];
  return {
    ok: violations.length === 0,
    violations,
    uploads,
    totals,
    chaos: seen.counts,
    leftoverScratch: seen.scratch,
    webhookFailures: seen.webhookFailures,
  };
}

import type { FunctionContext } from '../context.js';
import { runProcess, type RunResult } from './run-process.js';
import type { MediaTools } from './tools.js';

export interface ToolRunOptions {
  /** Names the step in errors and logs (`split`, `transcode segment 3`). */
  label: string;
  /** `probe` for quick inspections (short limit), `process` for real work. Default `process`. */
  limit?: 'probe' | 'process';
  /**
   * Output duration in seconds, when the args contain `-progress pipe:1`; reported through
   * ctx.onProgress.
   */
  progressSeconds?: number;
  /** Maps the 0..1 progress of this run onto the caller's range (several runs in one function). */
  progressScale?: (fraction: number) => number;
  maxStdoutBytes?: number;
  keepStderrBytes?: number;
}

/** Runs the configured ffmpeg with the context's signal, the tools' time limits and environment. */
export function runFfmpeg(
  tools: MediaTools,
  args: readonly string[],
  ctx: FunctionContext,
  options: ToolRunOptions,
): Promise<RunResult> {
  return run(tools, tools.binaries.ffmpeg, `ffmpeg ${options.label}`, args, ctx, options);
}

/** Runs the configured ffprobe the same way. */
export function runFfprobe(
  tools: MediaTools,
  args: readonly string[],
  ctx: FunctionContext,
  options: ToolRunOptions,
): Promise<RunResult> {
  return run(tools, tools.binaries.ffprobe, `ffprobe ${options.label}`, args, ctx, options);
}

function run(
  tools: MediaTools,
  file: string,
  label: string,
  args: readonly string[],
  ctx: FunctionContext,
  options: ToolRunOptions,
): Promise<RunResult> {
  const scale = options.progressScale ?? ((f: number) => f);
  return runProcess(file, args, {
    label,
    timeoutMs: options.limit === 'probe' ? tools.probeTimeoutMs : tools.processTimeoutMs,
    signal: ctx.signal,
    env: tools.binaries.env,
    ...(options.progressSeconds !== undefined
      ? {
          progress: {
            durationSeconds: options.progressSeconds,
            onProgress: (f: number) => ctx.onProgress(scale(f)),
          },
        }
      : {}),
    ...(options.maxStdoutBytes !== undefined ? { maxStdoutBytes: options.maxStdoutBytes } : {}),
    ...(options.keepStderrBytes !== undefined ? { keepStderrBytes: options.keepStderrBytes } : {}),
  });
}

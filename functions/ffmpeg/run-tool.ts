import type { FunctionContext } from '../context.js';
import { confineCommand, mediaEnv } from './confine.js';
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
  const command = confineCommand(
    file,
    withCodecWhitelist(args, tools.decoderWhitelist),
    tools.confinement,
    ctx.scratchDir,
  );
  return runProcess(command.file, command.args, {
    label,
    timeoutMs: options.limit === 'probe' ? tools.probeTimeoutMs : tools.processTimeoutMs,
    signal: ctx.signal,
    env: mediaEnv(ctx.scratchDir, tools.binaries.env),
    exactEnv: true,
    cwd: ctx.scratchDir,
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

/**
 * Puts `-codec_whitelist` before every `-i` (an input option: it binds to the next input), so no
 * argument builder can forget it: a decoder outside the list fails with "not on whitelist"
 * instead of parsing the stream. Exported for tests.
 */
export function withCodecWhitelist(
  args: readonly string[],
  decoders: readonly string[] | undefined,
): readonly string[] {
  if (!decoders || decoders.length === 0) return args;
  const list = decoders.join(',');
  const out: string[] = [];
  for (const arg of args) {
    if (arg === '-i') out.push('-codec_whitelist', list);
    out.push(arg);
  }
  // ffprobe names its input without -i: the whitelist then goes first (a global position).
  return args.includes('-i') ? out : ['-codec_whitelist', list, ...args];
}

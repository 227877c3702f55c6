import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { MediaflowError } from '../errors.js';

/**
 * The one place in mediaflow that spawns ffmpeg/ffprobe. Everything else builds argument arrays.
 *
 * Why it looks like this:
 * - Arguments are an array and no shell is involved, so nothing in a file name or an object key can
 *   become a command.
 * - Each child is the leader of its own process group (`detached`), so a kill reaches helpers it
 * may
 *   fork and a hung ffmpeg cannot survive its task.
 * - Only a bounded tail of stderr is kept: a failing ffmpeg can write megabytes of warnings.
 */

/** Progress reporting for an ffmpeg run that has `-progress pipe:1` among its arguments. */
export interface ProgressSpec {
  /** Duration of the output in seconds; `out_time` is divided by it. */
  durationSeconds: number;
  onProgress: (fraction: number) => void;
}

export interface RunOptions {
  /** Hard wall-clock limit; past it the process group is killed and PROCESS_TIMEOUT thrown. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Parse `-progress pipe:1` key=value lines on stdout instead of collecting stdout. */
  progress?: ProgressSpec;
  /** Most bytes of stdout kept (ffprobe JSON/CSV); more fails the run. Default 64 MiB. */
  maxStdoutBytes?: number;
  /**
   * Keep all of stderr up to this many bytes (loudnorm prints its measurement there). Default: tail
   * only.
   */
  keepStderrBytes?: number;
  cwd?: string;
  /** Extra environment variables for the child (added to this process's environment). */
  env?: Readonly<Record<string, string>>;
  /** `env` is the child's whole environment: nothing of this process's is inherited. */
  exactEnv?: boolean;
  /** Names the tool in error messages (`ffmpeg split`, `ffprobe`). */
  label?: string;
}

export interface RunResult {
  stdout: string;
  /** The last lines of stderr (at most ~4 KB / 30 lines), or all of it up to `keepStderrBytes`. */
  stderr: string;
  wallMs: number;
}

const STDERR_TAIL_BYTES = 4096;
const STDERR_TAIL_LINES = 30;
const DEFAULT_MAX_STDOUT = 64 * 1024 * 1024;

/** Signals the kernel sends when a resource limit is reached, as typed errors. */
const LIMIT_SIGNALS: Partial<
  Record<NodeJS.Signals, { code: 'MEDIA_LIMIT_EXCEEDED' | 'PROCESS_TIMEOUT'; what: string }>
> = {
  SIGXFSZ: { code: 'MEDIA_LIMIT_EXCEEDED', what: 'a file it wrote reached the file size limit' },
  SIGXCPU: { code: 'PROCESS_TIMEOUT', what: 'it used up its CPU time limit' },
};

function signalOfExitCode(code: number | null): NodeJS.Signals {
  const byNumber = Object.entries(os.constants.signals).find(([, n]) => code === 128 + n);
  return (byNumber?.[0] ?? 'SIGKILL') as NodeJS.Signals;
}

const liveChildren = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group may be gone already; fall back to the child itself.
    try {
      child.kill('SIGKILL');
    } catch {
      /* already exited */
    }
  }
}

/**
 * Kills every media process still running (worker shutdown, tests); returns how many were
 * signalled.
 */
export function killAllChildren(): number {
  const count = liveChildren.size;
  for (const child of liveChildren) killGroup(child);
  return count;
}

/** How many media processes are running now (for tests and health checks). */
export function liveChildCount(): number {
  return liveChildren.size;
}

// A child in its own group is not killed when the parent dies, so kill the group on our way out.
// `exit` listeners must be synchronous; process.kill is.
process.once('exit', () => {
  killAllChildren();
});

/** Keeps the last bytes of a stream, trimmed to whole lines at the end. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.limit) {
      this.size -= this.chunks.shift()!.length;
    }
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** The last lines of stderr as kept on errors. Exported for tests. */
export function tailLines(
  text: string,
  maxLines = STDERR_TAIL_LINES,
  maxBytes = STDERR_TAIL_BYTES,
): string {
  const lines = text.split(/\r?\n|\r/).filter((line) => line.trim() !== '');
  let tail = lines.slice(-maxLines).join('\n');
  if (Buffer.byteLength(tail) > maxBytes) tail = tail.slice(tail.length - maxBytes);
  return tail;
}

/**
 * Parses ffmpeg `-progress` output (key=value lines, one block per update) into fractions.
 * `out_time_us` is preferred; old builds name the same microseconds `out_time_ms`.
 */
export class ProgressParser {
  private pending = '';
  private last = -1;
  constructor(private readonly spec: ProgressSpec) {}
  push(chunk: string): void {
    this.pending += chunk;
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.line(line.trim());
  }
  private line(line: string): void {
    const eq = line.indexOf('=');
    if (eq < 0) return;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'progress' && value === 'end') {
      this.report(1);
      return;
    }
    if (key !== 'out_time_us' && key !== 'out_time_ms') return;
    const micros = Number(value);
    if (!Number.isFinite(micros) || this.spec.durationSeconds <= 0) return;
    this.report(Math.min(1, Math.max(0, micros / 1e6 / this.spec.durationSeconds)));
  }
  private report(fraction: number): void {
    // Only forward visible changes; ffmpeg writes a block twice a second per output.
    if (fraction < 1 && fraction - this.last < 0.01) return;
    if (fraction <= this.last) return;
    this.last = fraction;
    this.spec.onProgress(fraction);
  }
}

/**
 * Runs `file args...` to completion. Resolves with stdout and the stderr tail on exit code 0;
 * rejects with a MediaflowError: FFMPEG_FAILED (non-zero exit), PROCESS_TIMEOUT, CANCELLED
 * (signal aborted) or BINARY_MISSING (spawn failed).
 */
export function runProcess(
  file: string,
  args: readonly string[],
  options: RunOptions,
): Promise<RunResult> {
  const label = options.label ?? file;
  if (options.signal?.aborted) {
    return Promise.reject(new MediaflowError('CANCELLED', `${label} was not started: cancelled.`));
  }
  const started = Date.now();
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(file, [...args], {
      cwd: options.cwd,
      env: options.exactEnv ? { ...options.env } : { ...process.env, ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
    });
    liveChildren.add(child);

    const stderrTail = new TailBuffer(Math.max(STDERR_TAIL_BYTES, options.keepStderrBytes ?? 0));
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    const maxStdout = options.maxStdoutBytes ?? DEFAULT_MAX_STDOUT;
    const progress = options.progress ? new ProgressParser(options.progress) : undefined;
    let failure: MediaflowError | undefined;

    const fail = (error: MediaflowError) => {
      failure ??= error;
      killGroup(child);
    };

    child.stdout!.on('data', (chunk: Buffer) => {
      if (progress) return progress.push(chunk.toString('utf8'));
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) {
        return fail(
          new MediaflowError(
            'MEDIA_LIMIT_EXCEEDED',
            `${label} wrote more than ${maxStdout} bytes of output.`,
          ),
        );
      }
      stdoutChunks.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => stderrTail.push(chunk));

    const timer = setTimeout(() => {
      fail(
        new MediaflowError(
          'PROCESS_TIMEOUT',
          `${label} ran longer than ${Math.round(options.timeoutMs / 1000)} s and was killed.`,
        ),
      );
    }, options.timeoutMs);
    timer.unref();

    const onAbort = () => fail(new MediaflowError('CANCELLED', `${label} was cancelled.`));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      liveChildren.delete(child);
    };

    child.once('error', (error: NodeJS.ErrnoException) => {
      finish();
      const code =
        error.code === 'ENOENT' || error.code === 'EACCES' ? 'BINARY_MISSING' : 'FFMPEG_FAILED';
      reject(
        new MediaflowError(
          code,
          `${label} could not be started (${error.code ?? error.message}): ${file}`,
          { cause: error },
        ),
      );
    });

    // 'close' (not 'exit') so stdout/stderr are fully read before we decide.
    child.once('close', (code, signal) => {
      finish();
      const stderr = options.keepStderrBytes ? stderrTail.text() : tailLines(stderrTail.text());
      if (failure) {
        reject(
          new MediaflowError(failure.code, failure.message, { stderrTail: tailLines(stderr) }),
        );
        return;
      }
      if (code !== 0) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        // The confinement's resource limits (see confine.ts) end a process with these signals;
        // through bwrap they arrive as its exit code, 128 + the signal's number.
        const limit = LIMIT_SIGNALS[signal ?? signalOfExitCode(code)];
        if (limit) {
          reject(
            new MediaflowError(limit.code, `${label} ${how}: ${limit.what}.`, {
              stderrTail: tailLines(stderr),
            }),
          );
          return;
        }
        reject(
          new MediaflowError('FFMPEG_FAILED', `${label} ${how}.`, {
            stderrTail: tailLines(stderr),
          }),
        );
        return;
      }
      resolve({
        stdout: Buffer.concat(stdoutChunks).toString('utf8'),
        stderr,
        wallMs: Date.now() - started,
      });
    });
  });
}

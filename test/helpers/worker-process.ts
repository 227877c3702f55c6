import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A `mediaflow worker` child process, with its output kept for assertions and failure reports. */
export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /**
   * Its scratch root (MEDIAFLOW_SCRATCH_DIR): every ffmpeg it runs has a path under it in its
   * arguments.
   */
  scratchDir: string;
  output(): string;
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns a worker: `cli` is the real `node bin/mediaflow.js worker` (production registries),
 * `test` is test/helpers/distributed-worker.ts (test workflows, short locks). Resolves `ready`
 * when it logs "worker ready".
 */
export function spawnWorker(kind: 'cli' | 'test', env: Record<string, string>): WorkerProcess {
  const scratchDir =
    env.MEDIAFLOW_SCRATCH_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-worker-'));
  const args =
    kind === 'cli'
      ? ['bin/mediaflow.js', 'worker']
      : ['bin/run-ts.js', 'test/helpers/distributed-worker.ts'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      MEDIAFLOW_LOG_LEVEL: 'info',
      ...env,
      MEDIAFLOW_SCRATCH_DIR: scratchDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let markReady: () => void = () => {};
  let markFailed: (e: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.includes('"msg":"worker ready"')) markReady();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      markFailed(
        new Error(`worker exited (${code ?? signal}) before it was ready:\n${output.slice(-3000)}`),
      );
      resolve({ code, signal });
    }),
  );
  return { child, pid: child.pid!, scratchDir, output: () => output, ready, exited };
}

/** Pids of live processes whose command line mentions `text` (e.g. a worker's scratch folder). */
export function pgrep(text: string): number[] {
  const result = spawnSync('pgrep', ['-f', text], { encoding: 'utf8' });
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid !== result.pid);
}

/** The parent pid of a process, or undefined when it is gone. */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** True while the process runs (a zombie, killed but not yet reaped, counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Media processes under a scratch root whose parent is `pid`. */
export function childrenUnder(scratchRoot: string, pid: number): number[] {
  return pgrep(scratchRoot).filter((p) => parentOf(p) === pid);
}

/** Stops a worker if it still runs. */
export async function disposeWorker(worker: WorkerProcess): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null)
    worker.child.kill('SIGKILL');
  await worker.exited;
}

/** Kills whatever still runs under a test's own scratch root, by pid, and removes the folder. */
export function cleanScratch(scratchRoot: string): void {
  for (const pid of pgrep(scratchRoot)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  fs.rmSync(scratchRoot, { recursive: true, force: true });
}

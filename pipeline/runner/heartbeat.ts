import crypto from 'node:crypto';
import os from 'node:os';
import type { RunningTask } from './port.js';
import type { WorkerInfo, WorkerRegistry } from './worker-registry.js';

/** What stays the same over a process's life; tasks, state and time are added at each beat. */
export type WorkerIdentity = Pick<
  WorkerInfo,
  'id' | 'host' | 'pid' | 'concurrency' | 'version' | 'ffmpegVersion' | 'startedAt'
>;

export function thisProcess(
  concurrency: number,
  versions: { mediaflow: string; ffmpeg: string },
): WorkerIdentity {
  const host = os.hostname();
  return {
    id: `${host}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`,
    host,
    pid: process.pid,
    concurrency,
    version: versions.mediaflow,
    ffmpegVersion: versions.ffmpeg,
    startedAt: new Date().toISOString(),
  };
}

/** The identity with what the process is doing now. */
export function snapshot(
  identity: WorkerIdentity,
  tasks: RunningTask[],
  state: WorkerInfo['state'] = 'running',
): WorkerInfo {
  return { ...identity, state, seenAt: new Date().toISOString(), tasks };
}

/** A heartbeat entry outlives three periods: one or two late beats do not hide a busy worker. */
export const HEARTBEAT_TTL_PERIODS = 3;

export interface Heartbeat {
  /** Beats at once with state `stopping` (the worker is draining), and keeps beating. */
  stopping(): Promise<void>;
  /** Stops beating and removes the entry: the worker is gone. */
  stop(): Promise<void>;
}

/**
 * Writes this worker's entry now and every `intervalMs`. A failed beat (Redis away) is reported
 * and the next one tries again; the entry lapses if Redis stays away past its TTL, which is right:
 * nobody can tell then whether the worker lives.
 */
export async function startHeartbeat(options: {
  registry: WorkerRegistry;
  identity: WorkerIdentity;
  intervalMs: number;
  tasks: () => RunningTask[];
  onError: (error: unknown) => void;
}): Promise<Heartbeat> {
  const { registry, identity, intervalMs } = options;
  let state: WorkerInfo['state'] = 'running';
  const beat = () =>
    registry
      .beat(snapshot(identity, options.tasks(), state), intervalMs * HEARTBEAT_TTL_PERIODS)
      .catch(options.onError);
  await beat();
  const timer = setInterval(beat, intervalMs);
  // The beat alone must not keep a stopping process alive.
  timer.unref();
  return {
    async stopping() {
      state = 'stopping';
      await beat();
    },
    async stop() {
      clearInterval(timer);
      await registry.remove(identity.id).catch(options.onError);
    },
  };
}

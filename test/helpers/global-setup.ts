import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { answers, freePort } from './redis-server.js';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let started: ChildProcess | undefined;

/**
 * Finds Redis for the integration tests: REDIS_URL, else 127.0.0.1:6379, else a redis-server
 * started from PATH on a free port for this run only.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let url = process.env.REDIS_URL;
  if (!url && (await answers(6379))) url = 'redis://127.0.0.1:6379';
  if (!url) {
    if (spawnSync('redis-server', ['--version']).error) {
      throw new Error(
        'No Redis answers at REDIS_URL or 127.0.0.1:6379 and redis-server is not on PATH. ' +
          'Install it (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install ' +
          'redis`) or set REDIS_URL.',
      );
    }
    const port = await freePort();
    started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 50 && !(await answers(port)); i++)
      await new Promise((r) => setTimeout(r, 100));
    url = `redis://127.0.0.1:${port}`;
  }
  project.provide('redisUrl', url);
  return async () => {
    started?.kill('SIGTERM');
  };
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** Sends PING over raw RESP; true when a Redis answers PONG. */
function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

let started: ChildProcess | undefined;

/**
 * Finds Redis for the integration tests: REDIS_URL, else 127.0.0.1:6379, else a redis-server
 * started from PATH on a free port for this run only.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let url = process.env.REDIS_URL;
  if (!url && (await ping('127.0.0.1', 6379))) url = 'redis://127.0.0.1:6379';
  if (!url) {
    if (spawnSync('redis-server', ['--version']).error) {
      throw new Error('No Redis answers at REDIS_URL or 127.0.0.1:6379 and redis-server is not on PATH. Install it (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`) or set REDIS_URL.');
    }
    const port = await freePort();
    started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 50 && !(await ping('127.0.0.1', port)); i++) await new Promise((r) => setTimeout(r, 100));
    url = `redis://127.0.0.1:${port}`;
  }
  project.provide('redisUrl', url);
  return async () => {
    started?.kill('SIGTERM');
  };
}

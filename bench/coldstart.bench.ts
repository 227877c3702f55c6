import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { EMBEDDED_CREDENTIALS } from '../pipeline/storage/embedded-s3.js';
import { startOwnRedis } from '../test/helpers/redis-server.js';
import { startTestS3 } from '../test/helpers/s3.js';
import type { Row } from './harness.js';

/**
 * Cold start of a distributed worker: from spawning `mediaflow worker` to its "worker ready" log
 * line (connected to Redis, consuming), run the way the source tree runs it (TypeScript through
 * tsx) and the way the container image runs it (compiled JavaScript, `npm run build`; built here
 * into a temporary folder when there is no `dist/`). Median and worst of several starts,
 * alternated.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STARTS = Number(process.env.BENCH_COLD_STARTS ?? 5);

/**
 * CPU milliseconds a process and its waited-for children (the ffmpeg checks) have used so far,
 * from /proc (Linux; NaN elsewhere). Unlike wall time it hardly moves with the machine's load.
 */
function cpuMsSoFar(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime: fields 14-17 of proc(5), in clock ticks (100 per second).
    const ticks = fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0);
    return ticks * 10;
  } catch {
    return Number.NaN;
  }
}

interface Start {
  ms: number;
  cpuMs: number;
}

function startToReady(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Start> {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let seen = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const onData = (d: Buffer) => {
      seen = (seen + d.toString()).slice(-8000);
      if (seen.includes('worker ready')) {
        const ms = performance.now() - began;
        const cpuMs = cpuMsSoFar(child.pid);
        clearTimeout(timer);
        child.kill('SIGTERM');
        child.once('close', () => resolve({ ms, cpuMs }));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!seen.includes('worker ready'))
        reject(new Error(`worker exited ${code} before ready: ${seen.slice(-600)}`));
    });
  });
}

/** The compiled entry: `dist/` when built, else a fresh build into a temporary folder. */
async function compiledEntry(): Promise<{ entry: string; cleanup(): void }> {
  const built = path.join(ROOT, 'dist/pipeline/cli/main.js');
  if (fs.existsSync(built)) return { entry: built, cleanup() {} };
  const out = fs.mkdtempSync(path.join(ROOT, '.bench-dist-'));
  await new Promise<void>((resolve, reject) => {
    const tsc = spawn(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', out],
      { cwd: ROOT, stdio: 'ignore' },
    );
    tsc.on('error', reject);
    tsc.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tsc exited ${code}`))));
  });
  return {
    entry: path.join(out, 'pipeline/cli/main.js'),
    cleanup: () => fs.rmSync(out, { recursive: true, force: true }),
  };
}

const percentile = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

export default async function run(): Promise<Row[]> {
  const own = process.env.REDIS_URL ? undefined : await startOwnRedis({ persist: false });
  const s3 = await startTestS3();
  const compiled = await compiledEntry();
  const toolCache = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-bench-tool-cache-'));
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: process.env.REDIS_URL ?? own!.url,
      MEDIAFLOW_S3_ENDPOINT: s3.endpoint,
      MEDIAFLOW_S3_ACCESS_KEY_ID: EMBEDDED_CREDENTIALS.accessKeyId,
      MEDIAFLOW_S3_SECRET_ACCESS_KEY: EMBEDDED_CREDENTIALS.secretAccessKey,
      MEDIAFLOW_QUEUE_PREFIX: `mfcold-${crypto.randomBytes(4).toString('hex')}`,
      MEDIAFLOW_LOG_LEVEL: 'info',
    };
    // The tool cache (functions/ffmpeg/tool-cache.ts) in a folder of this run's own; the
    // warm-up start fills it. The last variant shows what a start costs without it.
    const cached = { ...env, MEDIAFLOW_TOOL_CACHE_DIR: toolCache };
    const variants = [
      {
        name: 'TypeScript through tsx (source tree)',
        args: ['bin/mediaflow.js', 'worker'],
        env: cached,
      },
      {
        name: 'compiled JavaScript (container image)',
        args: [compiled.entry, 'worker'],
        env: cached,
      },
      {
        name: 'compiled JavaScript, no tool cache',
        args: [compiled.entry, 'worker'],
        env: { ...env, MEDIAFLOW_TOOL_CACHE_DIR: 'off' },
      },
    ];
    const starts = variants.map(() => [] as Start[]);
    await startToReady(variants[1]!.args, cached); // warms the OS file cache and the tool cache
    for (let i = 0; i < STARTS; i++)
      for (const [k, v] of variants.entries()) starts[k]!.push(await startToReady(v.args, v.env));
    const wall = starts.map((s) => s.map((x) => x.ms));
    const tsx = percentile(wall[0]!, 50);
    return variants.map((v, k) => ({
      name: `worker cold start (spawn to ready), ${v.name}`,
      value: percentile(wall[k]!, 50),
      unit: 'ms',
      baseline: tsx,
      ratio: percentile(wall[k]!, 50) / tsx,
      note:
        `median of ${STARTS}, worst ${Math.round(percentile(wall[k]!, 100))} ms; CPU ` +
        `${Math.round(
          percentile(
            starts[k]!.map((x) => x.cpuMs),
            50,
          ),
        )} ms (process and ` +
        `ffmpeg checks); target < 300 ms`,
    }));
  } finally {
    compiled.cleanup();
    fs.rmSync(toolCache, { recursive: true, force: true });
    await s3.close();
    await own?.close();
  }
}

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
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

function startToReady(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
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
        clearTimeout(timer);
        child.kill('SIGTERM');
        child.once('close', () => resolve(ms));
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
    const variants = [
      { name: 'TypeScript through tsx (source tree)', args: ['bin/mediaflow.js', 'worker'] },
      { name: 'compiled JavaScript (container image)', args: [compiled.entry, 'worker'] },
    ];
    const times = variants.map(() => [] as number[]);
    await startToReady(variants[1]!.args, env); // warms the OS file cache for both
    for (let i = 0; i < STARTS; i++)
      for (const [k, v] of variants.entries()) times[k]!.push(await startToReady(v.args, env));
    const tsx = percentile(times[0]!, 50);
    return variants.map((v, k) => ({
      name: `worker cold start (spawn to ready), ${v.name}`,
      value: percentile(times[k]!, 50),
      unit: 'ms',
      baseline: tsx,
      ratio: percentile(times[k]!, 50) / tsx,
      note:
        `median of ${STARTS}, worst ${Math.round(percentile(times[k]!, 100))} ms; ` +
        'target < 300 ms',
    }));
  } finally {
    compiled.cleanup();
    await s3.close();
    await own?.close();
  }
}

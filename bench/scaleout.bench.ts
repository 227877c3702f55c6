import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveBinaries } from '../functions/ffmpeg/binaries.js';
import { plainLadderArgs } from './baselines.js';
import type { Row } from './harness.js';
import { defaultLadder, referenceClip } from './video.bench.js';

/**
 * Scale-out: `mediaflow process` pinned with `taskset` to 1, 2, 4, ... cores (as many as this
 * machine has, up to 16), against the best single ffmpeg command with the same ladder and x264
 * settings pinned to the same cores, measured alternately in the same run. Wall time is what a
 * user waits; CPU time (user + sys of the whole process tree, from /usr/bin/time) is what the
 * work costs, and is the steadier figure on a shared machine. Each process sizes itself from its
 * affinity: Node's availableParallelism and x264's thread count both follow `taskset`.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SCALE_SECONDS ?? 20);
const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 1);

interface Measured {
  wall: number;
  cpu: number;
}

/** Runs `args` pinned to `cpus` under /usr/bin/time; wall and CPU seconds of the process tree. */
function pinned(cpus: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %U %S', 'taskset', '-c', cpus, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /TIME ([0-9.]+) ([0-9.]+) ([0-9.]+)\s*$/.exec(stderr);
      if (code !== 0 || !m)
        return reject(new Error(`${args[0]} exited ${code}: ${stderr.slice(-600)}`));
      resolve({ wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]) });
    });
  });
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export default async function run(): Promise<Row[]> {
  const { ffmpeg } = await resolveBinaries({
    ffmpegPath: process.env.FFMPEG_PATH,
    ffprobePath: process.env.FFPROBE_PATH,
  });
  const source = await referenceClip(ffmpeg, SECONDS);
  const { renditions, settings } = defaultLadder();
  const cores = os.availableParallelism();
  const counts = [1, 2, 4, 8, 16].filter((n) => n <= cores);
  const env = { ...process.env, MEDIAFLOW_LOG_LEVEL: 'warn' };
  const rows: Row[] = [];
  const first: Measured[] = [];
  for (const n of counts) {
    const cpus = n === 1 ? '0' : `0-${n - 1}`;
    const ours: Measured[] = [];
    const plain: Measured[] = [];
    for (let r = 0; r < RUNS; r++) {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
      try {
        // Alternating, so drift in the machine's load hits both alike.
        plain.push(
          await pinned(
            cpus,
            [ffmpeg, ...plainLadderArgs(source, renditions, out, 30, settings)],
            env,
          ),
        );
        ours.push(
          await pinned(
            cpus,
            [process.execPath, 'bin/mediaflow.js', 'process', source, '--out', out, '--json'],
            env,
          ),
        );
      } finally {
        fs.rmSync(out, { recursive: true, force: true });
      }
    }
    const m = { wall: median(ours.map((x) => x.wall)), cpu: median(ours.map((x) => x.cpu)) };
    const p = { wall: median(plain.map((x) => x.wall)), cpu: median(plain.map((x) => x.cpu)) };
    first.push(m);
    rows.push(
      {
        name: `${n} core${n > 1 ? 's' : ''}: ${SECONDS}s 1080p ladder, mediaflow process wall`,
        value: m.wall,
        unit: 's',
        baseline: p.wall,
        ratio: m.wall / p.wall,
        note:
          `one ffmpeg, same ladder and x264 settings, same cores; speedup vs 1 core ` +
          `${(first[0]!.wall / m.wall).toFixed(2)}x; median of ${RUNS}`,
      },
      {
        name: `${n} core${n > 1 ? 's' : ''}: CPU seconds (user+sys, process tree)`,
        value: m.cpu,
        unit: 's',
        baseline: p.cpu,
        ratio: m.cpu / p.cpu,
      },
    );
  }
  // What the pre-roll costs, at the largest core count: the same run with it off.
  const widest = counts[counts.length - 1]!;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
  try {
    const cold = await pinned(
      widest === 1 ? '0' : `0-${widest - 1}`,
      [process.execPath, 'bin/mediaflow.js', 'process', source, '--out', out, '--json'],
      { ...env, MEDIAFLOW_PREROLL_SECONDS: '0' },
    );
    const warm = first[first.length - 1]!;
    rows.push({
      name: `${widest} cores: CPU seconds with pre-roll, against pre-roll off`,
      value: warm.cpu,
      unit: 's',
      baseline: cold.cpu,
      ratio: warm.cpu / cold.cpu,
      note: `wall ${warm.wall.toFixed(1)} s with, ${cold.wall.toFixed(1)} s without`,
    });
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  if (cores < 16)
    rows.push({
      name: 'scale-out beyond this machine',
      value: NaN,
      unit: '',
      note:
        `not measured: this machine has ${cores} cores, shared with other work, and no larger ` +
        'machine was available; run `npm run bench scaleout` on a 16-core one',
    });
  return rows;
}

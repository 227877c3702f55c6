import fs from 'node:fs';

/** One line of the benchmark table: a figure and, where there is one, its same-run baseline. */
export interface Row {
  name: string;
  value: number;
  unit: string;
  /** The baseline's figure, measured in the same run on the same machine. */
  baseline?: number;
  /** value / baseline, or what the benchmark defines as its ratio (said in `note`). */
  ratio?: number;
  note?: string;
}

export type Bench = () => Promise<Row[]>;

/** Wall time of an async function in seconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

/** The best (lowest) of `runs` timings: the least disturbed by other work on the machine. */
export async function bestOf(runs: number, fn: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < runs; i++) best = Math.min(best, (await timed(fn)).seconds);
  return best;
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Samples the resident memory of this process and all its descendants (ffmpeg children
 * included) every `intervalMs`; `stop()` returns the peak seen, in bytes.
 */
export function sampleTreeRss(intervalMs = 50, root = process.pid): { stop(): number } {
  let peak = 0;
  const tick = () => {
    let total = 0;
    const stack = [root];
    while (stack.length) {
      const pid = stack.pop()!;
      total += rssBytes(pid);
      stack.push(...childrenOf(pid));
    }
    peak = Math.max(peak, total);
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return peak;
    },
  };
}

export function formatTable(rows: (Row & { bench: string })[]): string {
  const header = ['bench', 'figure', 'value', 'baseline', 'ratio', 'note'];
  const fmt = (n: number | undefined) =>
    n === undefined
      ? ''
      : Math.abs(n) >= 100
        ? n.toFixed(0)
        : Math.abs(n) >= 1
          ? n.toFixed(2)
          : n.toPrecision(3);
  const lines = rows.map((r) => [
    r.bench,
    r.name,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline === undefined ? '' : `${fmt(r.baseline)} ${r.unit}`,
    fmt(r.ratio),
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join(' | ')
      .trimEnd();
  return [render(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(render)].join(
    '\n',
  );
}

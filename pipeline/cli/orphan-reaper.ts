import fs from 'node:fs';
import path from 'node:path';
import { removeDeadScratch } from '../tasks/local-scratch.js';

/**
 * Kills media processes left behind by a worker that died without cleaning up (`kill -9`, OOM).
 *
 * Why this is needed: the process module starts each ffmpeg as the leader of its own process
 * group so that a kill reaches everything it forks; the flip side is that a SIGKILLed worker's
 * ffmpeg is not killed with it, and since Node ignores SIGPIPE and its children inherit that, it
 * does not die of writing to the dead worker's pipes either: it runs on, reparented, until it
 * finishes. Its task is meanwhile re-run by another worker.
 *
 * How one is recognised, on Linux (`/proc`): its command line names a file under this machine's
 * scratch root (every media process works on scratch files, and nothing else does), it leads its
 * own process group (as the process module starts them), and its parent is not a process of this
 * executable (a live worker) but init or a subreaper. Where `/proc` is missing this does nothing.
 */
export function reapOrphans(scratchRoot: string): number[] {
  if (!fs.existsSync('/proc/self/stat')) return [];
  const marker = path.resolve(scratchRoot) + path.sep;
  const killed: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const cmdline = read(`/proc/${pid}/cmdline`);
    if (!cmdline?.includes(marker)) continue;
    const stat = parseStat(read(`/proc/${pid}/stat`));
    if (!stat || stat.pgrp !== pid) continue;
    if (stat.ppid !== 1 && isNode(stat.ppid)) continue;
    try {
      process.kill(-pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // Gone already, or not ours to kill.
    }
  }
  return killed;
}

/**
 * Reaps now and every `intervalMs`, then removes the local scratch of dead workers (so a worker
 * starting on a machine cleans up after one that was `kill -9`'d); returns a stop function.
 */
export function startOrphanReaper(
  scratchRoot: string,
  intervalMs: number,
  onReaped: (pids: number[]) => void,
  onScratchRemoved?: (folders: string[]) => void,
): () => void {
  const pass = () => {
    const pids = reapOrphans(scratchRoot);
    if (pids.length) onReaped(pids);
    // With their processes gone, the dead workers' task folders can go too.
    const folders = removeDeadScratch(scratchRoot);
    if (folders.length) onScratchRemoved?.(folders);
  };
  pass();
  const timer = setInterval(pass, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * `/proc/<pid>/stat`: `pid (comm) state ppid pgrp ...`; comm may contain spaces and parentheses.
 */
function parseStat(stat: string | undefined): { ppid: number; pgrp: number } | undefined {
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  return Number.isInteger(ppid) && Number.isInteger(pgrp) ? { ppid, pgrp } : undefined;
}

function isNode(pid: number): boolean {
  try {
    return path.basename(fs.readlinkSync(`/proc/${pid}/exe`)) === path.basename(process.execPath);
  } catch {
    return false;
  }
}

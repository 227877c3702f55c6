import fs from 'node:fs';
import path from 'node:path';

/**
 * The folder name prefix of a task's local scratch: it names the process that owns it, so a
 * folder left by a process that died (`kill -9`, OOM) can be told from one in use.
 */
export function taskScratchPrefix(jobId: string, taskId: string, pid = process.pid): string {
  return `${jobId}-${taskId}-p${pid}-`;
}

/** `<job>-<task>-p<pid>-<random>`: the pid of a folder made by `taskScratchPrefix`. */
const OWNER = /-p(\d+)-[^-]+$/;

/**
 * Removes local task scratch whose owner process is gone. Run by every worker when it starts and
 * on each orphan-reaper pass: a worker killed with `kill -9` leaves its task folders (sources,
 * segments, renditions: gigabytes for a long video) that nothing else would ever remove. Assumes
 * the scratch root is local to the machine (one pid namespace), as MEDIAFLOW_SCRATCH_DIR should be.
 */
export function removeDeadScratch(scratchRoot: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(scratchRoot);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const owner = OWNER.exec(entry);
    if (!owner || isAlive(Number(owner[1]))) continue;
    fs.rmSync(path.join(scratchRoot, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

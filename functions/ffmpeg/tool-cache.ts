import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Facts about the media binaries (which build was chosen, its version, that it passed the
 * self-test, its encoders and filters) kept on disk between processes. Finding them out runs
 * ffmpeg about fifteen times, seconds of every worker's and every CLI run's start; they change
 * only when a binary does. Entries are keyed by each binary's path, size, mtime and inode (a
 * package upgrade replaces the file), so a stale entry is never read, only left behind. Any
 * problem reading or writing the cache means "not cached", never a failure.
 */

/** The default folder: `$XDG_CACHE_HOME/mediaflow`, else `~/.cache/mediaflow`. */
export function defaultToolCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'mediaflow');
}

/** What identifies a file's content without reading it; null when it is not there. */
export async function fileIdentity(file: string): Promise<string | null> {
  try {
    const real = await fs.realpath(file);
    const stat = await fs.stat(real);
    return `${real}:${stat.size}:${stat.mtimeMs}:${stat.ino}`;
  } catch {
    return null;
  }
}

/** This boot of the machine: hardware devices are only known to stay while it lasts. */
export async function bootId(): Promise<string> {
  try {
    return (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    // No boot id to tie to: a fresh value, so such entries are never reused.
    return crypto.randomUUID();
  }
}

/**
 * The value stored under `key` in `dir` (undefined: no cache), else `compute()`'s, stored for
 * next time when `keep` says so (a failure is found out anew at the next start, in case it was
 * fixed). Errors are never stored.
 */
export async function cachedFact<T>(
  dir: string | undefined,
  name: string,
  key: unknown,
  compute: () => Promise<T>,
  keep: (value: T) => boolean = () => true,
): Promise<T> {
  if (!dir) return compute();
  const keyText = JSON.stringify(key);
  const digest = crypto.createHash('sha256').update(keyText).digest('hex').slice(0, 24);
  const file = path.join(dir, `${name}-${digest}.json`);
  try {
    const entry = JSON.parse(await fs.readFile(file, 'utf8')) as { key?: string; value?: T };
    if (entry.key === keyText && entry.value !== undefined) return entry.value;
  } catch {
    /* absent or unreadable: found out anew */
  }
  const value = await compute();
  if (!keep(value)) return value;
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    // Written whole and renamed, so a reader never sees half an entry.
    const temp = `${file}.${process.pid}.${crypto.randomUUID()}`;
    await fs.writeFile(temp, JSON.stringify({ key: keyText, value }), { mode: 0o600 });
    await fs.rename(temp, file);
  } catch {
    /* a read-only home: every start finds out anew */
  }
  return value;
}

import path from 'node:path';
import type { JobRecord } from '../jobs/job.js';
import { MANIFEST_NAME } from '../jobs/manifest.js';
import type { ObjectStore } from '../storage/port.js';

/** Playlists are small; a bigger one is not ours. */
const MAX_PLAYLIST_BYTES = 1024 * 1024;
const MAX_PLAYLISTS = 64;

/**
 * Which keys of the output bucket the API may serve for a job: its listed outputs, its manifest,
 * and what its HLS playlists reference (segments and rendition playlists the manifest need not
 * list one by one), and only under the job's own output prefix. Anything else is refused, so the
 * outputs route can never be used to read arbitrary objects.
 *
 * Only a succeeded job has outputs. The result is cached per job, since a succeeded job's outputs
 * never change.
 */
export class OutputAccess {
  private readonly cache = new Map<string, Promise<Set<string>>>();

  constructor(private readonly store: ObjectStore) {}

  async allowed(job: JobRecord): Promise<Set<string>> {
    if (job.state !== 'succeeded') return new Set();
    const cacheKey = `${job.spec.id}@${job.updatedAt}`;
    let keys = this.cache.get(cacheKey);
    if (!keys) {
      keys = this.compute(job);
      keys.catch(() => this.cache.delete(cacheKey));
      // A small bound: the dashboard looks at a few jobs at a time.
      if (this.cache.size >= 100) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(cacheKey, keys);
    }
    return keys;
  }

  private async compute(job: JobRecord): Promise<Set<string>> {
    const { outputPrefix, outputBucket } = job.spec;
    const allowed = new Set(
      job.outputs.map((o) => o.key).filter((k) => k.startsWith(outputPrefix)),
    );
    allowed.add(outputPrefix + MANIFEST_NAME);
    const pending = [...allowed].filter(isPlaylist);
    const seen = new Set<string>();
    while (pending.length && seen.size < MAX_PLAYLISTS) {
      const playlist = pending.shift()!;
      if (seen.has(playlist)) continue;
      seen.add(playlist);
      let text: string;
      try {
        text = (await this.store.getBytes(outputBucket, playlist, MAX_PLAYLIST_BYTES)).toString(
          'utf8',
        );
      } catch {
        continue;
      }
      for (const uri of playlistUris(text)) {
        const key = resolveKey(playlist, uri, outputPrefix);
        if (!key || allowed.has(key)) continue;
        allowed.add(key);
        if (isPlaylist(key)) pending.push(key);
      }
    }
    return allowed;
  }
}

function isPlaylist(key: string): boolean {
  return key.toLowerCase().endsWith('.m3u8');
}

/** The URIs an HLS playlist refers to: its non-tag lines and every `URI="..."` attribute. */
export function playlistUris(text: string): string[] {
  const uris: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (!line.startsWith('#')) uris.push(line);
    else for (const match of line.matchAll(/URI="([^"]+)"/g)) uris.push(match[1]!);
  }
  return uris;
}

/**
 * A playlist-relative URI as a key under the job's prefix, or undefined (absolute URLs, escapes).
 */
export function resolveKey(
  playlistKey: string,
  uri: string,
  outputPrefix: string,
): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith('/')) return undefined;
  const withoutQuery = uri.split(/[?#]/)[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(withoutQuery);
  } catch {
    return undefined;
  }
  const key = path.posix.normalize(path.posix.join(path.posix.dirname(playlistKey), decoded));
  return key.startsWith(outputPrefix) && !key.split('/').includes('..') ? key : undefined;
}

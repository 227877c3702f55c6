import zlib from 'node:zlib';
import type { StoredResponse } from './idempotency.js';

/**
 * The largest answer kept for replay, compressed. A 1,000-item batch answer compresses to a few
 * tens of KiB (its items repeat the same fields), so this only refuses pathological ones; those are
 * not kept at all, and a retry runs the batch again (safe: job ids derive from the source).
 */
export const MAX_ANSWER_BYTES = 256 * 1024;

/** A stored answer: the status and the gzipped JSON body, as stores keep it. */
export interface PackedAnswer {
  status: number;
  body: Buffer;
}

/** The answer as kept for replay, or null when it is too large to keep. */
export function packAnswer(response: StoredResponse): PackedAnswer | null {
  const body = zlib.gzipSync(JSON.stringify(response.body ?? null), { level: 6 });
  return body.length > MAX_ANSWER_BYTES ? null : { status: response.status, body };
}

export function unpackAnswer(packed: PackedAnswer): StoredResponse {
  return {
    status: packed.status,
    body: JSON.parse(zlib.gunzipSync(packed.body).toString('utf8')) as unknown,
  };
}

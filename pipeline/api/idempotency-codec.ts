import zlib from 'node:zlib';

/** A stored answer to replay: the status and JSON body the first request got. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

/**
 * The largest answer kept for replay, compressed. A 1,000-item batch answer compresses to about
 * 30 KiB (its items repeat the same fields), so this only refuses pathological ones; those are not
 * kept at all, and a retry runs the batch again (safe: job ids derive from the source).
 */
export const MAX_ANSWER_BYTES = 256 * 1024;

/** A stored answer: the status and the compressed JSON body, as stores keep it. */
export interface PackedAnswer {
  status: number;
  body: Buffer;
}

/**
 * The answer as kept for replay, or null when it is too large to keep. Brotli rather than gzip:
 * a batch answer names each job id twice (`jobIds` and `items`) further apart than gzip's 32 KiB
 * window, and brotli's window finds the repeat: 28 KiB instead of 50 KiB for 1,000 items, at about
 * the same speed at quality 5 (5 ms).
 */
export function packAnswer(response: StoredResponse): PackedAnswer | null {
  const json = JSON.stringify(response.body ?? null);
  const body = zlib.brotliCompressSync(json, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(json),
    },
  });
  return body.length > MAX_ANSWER_BYTES ? null : { status: response.status, body };
}

export function unpackAnswer(packed: PackedAnswer): StoredResponse {
  return {
    status: packed.status,
    body: JSON.parse(zlib.brotliDecompressSync(packed.body).toString('utf8')) as unknown,
  };
}

import type { Readable } from 'node:stream';
/**
 * The object-storage port. Everything in mediaflow reaches storage through this interface; only
 * the S3 adapter imports the AWS SDK, so MinIO, AWS and the embedded s3rver share one code path.
 */
export interface ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  /** Without the surrounding quotes S3 puts on it. */
  etag: string;
  versionId: string | undefined;
  lastModified: Date | undefined;
  contentType: string | undefined;
}

export interface PutOptions {
  contentType?: string;
  cacheControl?: string;
}

export interface ObjectStore {
  /** Metadata of an object, or null when it does not exist. */
  head(bucket: string, key: string): Promise<ObjectInfo | null>;
  /**
   * Downloads an object to a local file. With `expect`, fails with SOURCE_CHANGED when the stored
   * object is no longer that ETag, and with MEDIA_LIMIT_EXCEEDED before reading past `maxBytes`.
   */
  download(
    bucket: string,
    key: string,
    file: string,
    options?: { expectEtag?: string; maxBytes?: number; signal?: AbortSignal },
  ): Promise<ObjectInfo>;
  upload(bucket: string, key: string, file: string, options?: PutOptions): Promise<void>;
  putBytes(bucket: string, key: string, body: Buffer | string, options?: PutOptions): Promise<void>;
  getBytes(bucket: string, key: string, maxBytes?: number): Promise<Buffer>;
  /**
   * Streams an object, or the inclusive byte range of it, straight from storage (an S3 Range
   * request): nothing is buffered or copied, whatever the size. With `expectEtag`, fails with
   * SOURCE_CHANGED when the object is no longer that version.
   */
  getStream(
    bucket: string,
    key: string,
    options?: { range?: { start: number; end: number }; expectEtag?: string },
  ): Promise<Readable>;
  list(bucket: string, prefix: string): AsyncIterable<ObjectInfo>;
  delete(bucket: string, keys: string[]): Promise<void>;
  /** Removes every object under a prefix; returns how many were removed. */
  deletePrefix(bucket: string, prefix: string): Promise<number>;
  ensureBucket(bucket: string): Promise<void>;
  /** Cheap round trip for readiness checks. */
  ping(bucket: string): Promise<void>;
}

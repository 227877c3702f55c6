import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import {
  S3Client,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  type ListObjectsCommandOutput,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import PQueue from 'p-queue';
import { DOT_SEGMENT_MESSAGE, hasDotSegment } from './key-safety.js';
import { MediaflowError } from '../../functions/errors.js';
import type { ObjectInfo, ObjectStore, PutOptions } from './port.js';
import { linkedSignal } from './linked-signal.js';

// The SDK warns on every process start that future releases need Node 22; the version we lock
// supports Node 20, so the warning is noise in CLI output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface S3StoreOptions {
  endpoint: string | undefined;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** Time to establish a connection; a storage host that is down fails fast instead of hanging. */
  connectTimeoutMs?: number;
  /**
   * Time a request may take until its response starts, and any pause of data after (long
   * transfers that keep moving are fine): a paused or wedged server fails the call, not hangs it.
   */
  requestTimeoutMs?: number;
}

/**
 * The S3 adapter: the only module that talks to the AWS SDK. Vendor errors are translated here
 * into mediaflow's codes (not found, unavailable), so nothing above branches on SDK error names.
 */
export class S3Store implements ObjectStore {
  private readonly client: S3Client;
  /**
   * Calls in flight at once. The SDK's timeouts also count a wait for a free pooled connection, so
   * a burst (a thousand small puts) queues here, before the clock starts, and the timeouts
   * measure the server, not our own queue.
   */
  private readonly slots = new PQueue({ concurrency: 64 });

  constructor(options: S3StoreOptions) {
    this.client = new S3Client({
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      // SDKs since early 2025 add CRC32 checksums (and aws-chunked bodies) to every upload by
      // default. s3rver and older MinIO releases reject or mangle those, so checksums are sent
      // and validated only where an operation requires them: the behaviour every S3-compatible
      // server understands.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      // Both timeouts also count the wait for a free connection of the pool, so the pool is
      // larger than the SDK's 50: a burst of small writes (HLS segments) does not time out queued.
      requestHandler: {
        connectionTimeout: options.connectTimeoutMs ?? 10_000,
        // Until the response starts (the body is sent by then), and any pause of the body after.
        requestTimeout: options.requestTimeoutMs ?? 20_000,
        socketTimeout: options.requestTimeoutMs ?? 20_000,
        httpAgent: { maxSockets: 128 },
        httpsAgent: { maxSockets: 128 },
        // Without it this SDK only logs a warning on a timeout and keeps waiting.
        throwOnRequestTimeout: true,
      },
    });
  }

  private send<T>(call: (client: S3Client) => Promise<T>): Promise<T> {
    // No timeout is set on the queue, so the task's own result (never void) comes back.
    return this.slots.add(() => call(this.client)) as Promise<T>;
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | null> {
    refuseDotSegments(key);
    try {
      const r = await this.send((client) =>
        client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
      );
      return {
        bucket,
        key,
        size: r.ContentLength ?? 0,
        etag: unquote(r.ETag),
        versionId: r.VersionId,
        lastModified: r.LastModified,
        contentType: r.ContentType,
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw translate(error, `head s3://${bucket}/${key}`);
    }
  }

  async download(
    bucket: string,
    key: string,
    file: string,
    options: { expectEtag?: string; maxBytes?: number; signal?: AbortSignal } = {},
  ): Promise<ObjectInfo> {
    refuseDotSegments(key);
    const link = linkedSignal(options.signal);
    try {
      return await this.downloadOnce(bucket, key, file, { ...options, signal: link.signal });
    } finally {
      link.dispose();
    }
  }

  private async downloadOnce(
    bucket: string,
    key: string,
    file: string,
    options: { expectEtag?: string; maxBytes?: number; signal?: AbortSignal | undefined },
  ): Promise<ObjectInfo> {
    let response: GetObjectCommandOutput;
    try {
      response = await this.send((client) =>
        client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(options.expectEtag ? { IfMatch: `"${options.expectEtag}"` } : {}),
          }),
          options.signal ? { abortSignal: options.signal } : {},
        ),
      );
    } catch (error) {
      if (isNotFound(error))
        throw new MediaflowError('SOURCE_NOT_FOUND', `s3://${bucket}/${key} does not exist`);
      if (statusOf(error) === 412)
        throw new MediaflowError('SOURCE_CHANGED', `s3://${bucket}/${key} changed since the event`);
      throw translate(error, `download s3://${bucket}/${key}`);
    }
    const info: ObjectInfo = {
      bucket,
      key,
      size: response.ContentLength ?? 0,
      etag: unquote(response.ETag),
      versionId: response.VersionId,
      lastModified: response.LastModified,
      contentType: response.ContentType,
    };
    const body = response.Body as Readable | undefined;
    // Not every S3-compatible server honours If-Match (s3rver ignores it), so check again here.
    if (options.expectEtag && info.etag !== options.expectEtag) {
      body?.destroy();
      throw new MediaflowError('SOURCE_CHANGED', `s3://${bucket}/${key} changed since the event`);
    }
    if (options.maxBytes !== undefined && info.size > options.maxBytes) {
      body?.destroy();
      throw new MediaflowError(
        'MEDIA_LIMIT_EXCEEDED',
        `s3://${bucket}/${key} is ${info.size} bytes; the limit is ${options.maxBytes}`,
      );
    }
    if (!body)
      throw new MediaflowError('STORAGE_UNAVAILABLE', `s3://${bucket}/${key} returned no body`);
    try {
      await pipeline(
        body,
        fs.createWriteStream(file),
        options.signal ? { signal: options.signal } : {},
      );
    } catch (error) {
      throw translate(error, `download s3://${bucket}/${key}`);
    }
    return info;
  }

  async upload(bucket: string, key: string, file: string, options: PutOptions = {}): Promise<void> {
    refuseDotSegments(key);
    const size = (await fs.promises.stat(file)).size;
    try {
      // Small files go in one PUT; large ones as a multipart upload with bounded memory.
      if (size < 16 * 1024 * 1024) {
        const body = await fs.promises.readFile(file);
        await this.send((client) =>
          client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: body,
              ...putHeaders(options),
            }),
          ),
        );
        return;
      }
      const upload = new Upload({
        client: this.client,
        params: {
          Bucket: bucket,
          Key: key,
          Body: fs.createReadStream(file),
          ...putHeaders(options),
        },
        queueSize: 4,
        partSize: 8 * 1024 * 1024,
      });
      await upload.done();
    } catch (error) {
      throw translate(error, `upload s3://${bucket}/${key}`);
    }
  }

  async putBytes(
    bucket: string,
    key: string,
    body: Buffer | string,
    options: PutOptions = {},
  ): Promise<void> {
    refuseDotSegments(key);
    try {
      await this.send((client) =>
        client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...putHeaders(options) }),
        ),
      );
    } catch (error) {
      throw translate(error, `put s3://${bucket}/${key}`);
    }
  }

  async getBytes(bucket: string, key: string, maxBytes = 64 * 1024 * 1024): Promise<Buffer> {
    refuseDotSegments(key);
    try {
      const r = await this.send((client) =>
        client.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
      );
      if ((r.ContentLength ?? 0) > maxBytes)
        throw new MediaflowError(
          'MEDIA_LIMIT_EXCEEDED',
          `s3://${bucket}/${key} exceeds ${maxBytes} bytes`,
        );
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (error) {
      if (error instanceof MediaflowError) throw error;
      if (isNotFound(error))
        throw new MediaflowError('SOURCE_NOT_FOUND', `s3://${bucket}/${key} does not exist`);
      throw translate(error, `get s3://${bucket}/${key}`);
    }
  }

  async getStream(
    bucket: string,
    key: string,
    options: { range?: { start: number; end: number }; expectEtag?: string } = {},
  ): Promise<Readable> {
    refuseDotSegments(key);
    try {
      const r = await this.send((client) =>
        client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(options.range
              ? { Range: `bytes=${options.range.start}-${options.range.end}` }
              : {}),
            ...(options.expectEtag ? { IfMatch: `"${options.expectEtag}"` } : {}),
          }),
        ),
      );
      const body = r.Body as Readable;
      // Checked here too: not every S3-protocol server honours If-Match (s3rver does not).
      if (options.expectEtag && unquote(r.ETag) !== options.expectEtag) {
        body.destroy();
        throw new MediaflowError('SOURCE_CHANGED', `s3://${bucket}/${key} changed while read`);
      }
      // A server that ignored the Range (s3rver does for bytes=0-0) sends the whole object: cut
      // it to the range while it streams.
      const { range } = options;
      if (range && r.ContentLength !== range.end - range.start + 1) return sliceStream(body, range);
      return body;
    } catch (error) {
      if (error instanceof MediaflowError) throw error;
      if (isNotFound(error))
        throw new MediaflowError('SOURCE_NOT_FOUND', `s3://${bucket}/${key} does not exist`);
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412)
        throw new MediaflowError('SOURCE_CHANGED', `s3://${bucket}/${key} changed while read`);
      throw translate(error, `get s3://${bucket}/${key}`);
    }
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    // ListObjects (v1) with a Marker: every S3-compatible server pages it the same way, whereas
    // s3rver's v2 continuation tokens use DES, which OpenSSL 3 (Node 18+) no longer provides.
    let marker: string | undefined;
    for (;;) {
      let page: ListObjectsCommandOutput;
      try {
        page = await this.send((client) =>
          client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker })),
        );
      } catch (error) {
        if (isNotFound(error))
          throw new MediaflowError('SOURCE_NOT_FOUND', `Bucket ${bucket} does not exist`);
        throw translate(error, `list s3://${bucket}/${prefix}`);
      }
      const contents = page.Contents ?? [];
      for (const o of contents) {
        if (!o.Key) continue;
        yield {
          bucket,
          key: o.Key,
          size: o.Size ?? 0,
          etag: unquote(o.ETag),
          versionId: undefined,
          lastModified: o.LastModified,
          contentType: undefined,
        };
      }
      const last = contents.at(-1)?.Key;
      if (!page.IsTruncated || !last) return;
      marker = last;
    }
  }

  async delete(bucket: string, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      try {
        await this.send((client) =>
          client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
          ),
        );
      } catch (error) {
        throw translate(error, `delete from s3://${bucket}`);
      }
    }
  }

  async deletePrefix(bucket: string, prefix: string): Promise<number> {
    if (!prefix) throw new MediaflowError('INTERNAL', 'deletePrefix refuses an empty prefix');
    const keys: string[] = [];
    for await (const o of this.list(bucket, prefix)) keys.push(o.key);
    await this.delete(bucket, keys);
    return keys.length;
  }

  async ensureBucket(bucket: string): Promise<void> {
    try {
      await this.send((client) => client.send(new HeadBucketCommand({ Bucket: bucket })));
      return;
    } catch (error) {
      if (!isNotFound(error)) throw translate(error, `head bucket ${bucket}`);
    }
    try {
      await this.send((client) => client.send(new CreateBucketCommand({ Bucket: bucket })));
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') return;
      throw translate(error, `create bucket ${bucket}`);
    }
  }

  async ping(bucket: string): Promise<void> {
    try {
      await this.send((client) => client.send(new HeadBucketCommand({ Bucket: bucket })));
    } catch (error) {
      throw translate(error, `head bucket ${bucket}`);
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}

function putHeaders(options: PutOptions) {
  return {
    ...(options.contentType ? { ContentType: options.contentType } : {}),
    ...(options.cacheControl ? { CacheControl: options.cacheControl } : {}),
  };
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return (
    name === 'NotFound' ||
    name === 'NoSuchKey' ||
    name === 'NoSuchBucket' ||
    statusOf(error) === 404
  );
}

function translate(error: unknown, what: string): MediaflowError {
  if (error instanceof MediaflowError) return error;
  if ((error as { name?: string })?.name === 'AbortError')
    return new MediaflowError('CANCELLED', `${what}: cancelled`);
  const detail =
    error instanceof S3ServiceException
      ? `${error.name} (${statusOf(error) ?? '?'})`
      : ((error as Error)?.message ?? String(error));
  return new MediaflowError('STORAGE_UNAVAILABLE', `${what} failed: ${detail}`, { cause: error });
}

/**
 * The last line of defence for `.`/`..` keys (see key-safety.ts): no request with one leaves this
 * adapter, whichever caller built the key.
 */
function refuseDotSegments(key: string): void {
  if (hasDotSegment(key))
    throw new MediaflowError(
      'REQUEST_INVALID',
      `Expected ${DOT_SEGMENT_MESSAGE} but received ${JSON.stringify(key.slice(0, 200))}`,
    );
}

/** The inclusive byte range of a whole-object stream, without buffering it. */
function sliceStream(body: Readable, range: { start: number; end: number }): Readable {
  let offset = 0;
  const out = new PassThrough();
  body.on('data', (chunk: Buffer) => {
    const from = Math.max(0, range.start - offset);
    const to = Math.min(chunk.length, range.end + 1 - offset);
    offset += chunk.length;
    if (to > from && !out.write(chunk.subarray(from, to))) {
      body.pause();
      out.once('drain', () => body.resume());
    }
    if (offset > range.end) {
      body.destroy();
      out.end();
    }
  });
  body.on('end', () => out.end());
  body.on('error', (error) => out.destroy(error));
  out.on('close', () => body.destroy());
  return out;
}

import { z } from 'zod';
import { DOT_SEGMENT_MESSAGE, hasDotSegment } from '../storage/key-safety.js';
import { MediaflowError } from '../../functions/errors.js';

/** A change to one object, whatever format announced it. */
export type StorageEvent =
  | {
      type: 'created';
      bucket: string;
      key: string;
      etag: string | undefined;
      versionId: string | undefined;
      size: number | undefined;
      sequencer: string | undefined;
    }
  | { type: 'removed'; bucket: string; key: string }
  | { type: 'test' };

/**
 * How keys are written in the notification. AWS and MinIO webhooks URL-encode keys with `+` for
 * spaces (MinIO also escapes `/` as `%2F`); s3rver's events and MinIO's listen API carry raw keys.
 */
export type KeyEncoding = 'url' | 'raw';

const recordSchema = z.object({
  eventName: z.string().min(1),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      eTag: z.string().optional(),
      versionId: z.string().optional(),
      size: z.number().nonnegative().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

// MinIO wraps records as {EventName, Key, Records}; the Records inside carry what we need.
const notificationSchema = z.object({ Records: z.array(recordSchema).max(1000) });

/** Parses an S3-format event notification (AWS, MinIO, s3rver) into storage events. */
export function parseS3Notification(body: unknown, encoding: KeyEncoding): StorageEvent[] {
  // AWS sends s3:TestEvent when a notification target is configured.
  if (body && typeof body === 'object' && (body as { Event?: unknown }).Event === 's3:TestEvent')
    return [{ type: 'test' }];
  const parsed = notificationSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'body';
    throw new MediaflowError(
      'EVENT_INVALID',
      `Not an S3 event notification: ${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data.Records.map((record): StorageEvent => {
    const bucket = record.s3.bucket.name;
    const key = decodeKey(record.s3.object.key, encoding);
    if (hasDotSegment(key))
      throw new MediaflowError(
        'EVENT_INVALID',
        `Expected ${DOT_SEGMENT_MESSAGE} but received ${JSON.stringify(key.slice(0, 200))}`,
      );
    if (record.eventName.includes('TestEvent')) return { type: 'test' };
    if (record.eventName.includes('ObjectRemoved')) return { type: 'removed', bucket, key };
    if (!record.eventName.includes('ObjectCreated')) return { type: 'test' };
    const { eTag, versionId, size, sequencer } = record.s3.object;
    return {
      type: 'created',
      bucket,
      key,
      etag: eTag?.replace(/^"|"$/g, ''),
      versionId: versionId || undefined,
      size,
      sequencer,
    };
  });
}

export function decodeKey(key: string, encoding: KeyEncoding): string {
  if (encoding === 'raw') return key;
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    throw new MediaflowError(
      'EVENT_INVALID',
      `Object key is not valid URL encoding: ${JSON.stringify(key.slice(0, 200))}`,
    );
  }
}

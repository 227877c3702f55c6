import { z } from 'zod';
import { MediaflowError } from '../../functions/errors.js';
import { parseS3Notification, type KeyEncoding, type StorageEvent } from './s3-notification.js';

/** A producer's direct request: process this object, with this preset when named. Keys are raw. */
export interface CommandEvent {
  type: 'command';
  bucket: string;
  key: string;
  preset: string | undefined;
}

/** What any trigger can announce: a storage change, or a command. */
export type TriggerEvent = StorageEvent | CommandEvent;

const commandSchema = z.strictObject({
  bucket: z.string().min(1).max(63),
  key: z.string().min(1).max(1024),
  preset: z.string().min(1).max(100).optional(),
});

const cloudEventSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  datacontenttype: z.string().optional(),
  data: z.unknown().optional(),
  data_base64: z.string().optional(),
});

/** Messages larger than this are refused before parsing (a notification of 1000 records fits). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Parses one broker message body: JSON holding an S3/MinIO event notification (what MinIO's
 * AMQP, NATS, MQTT and webhook targets publish, keys in `encoding`), the same as the `data` of a
 * structured-mode CloudEvent, or a plain command `{bucket, key, preset?}`. Anything else is
 * EVENT_INVALID: redelivering it cannot help.
 */
export function parseTriggerBytes(
  body: Uint8Array | string,
  encoding: KeyEncoding,
): TriggerEvent[] {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size > MAX_MESSAGE_BYTES)
    throw invalid(`at most ${MAX_MESSAGE_BYTES} bytes`, `${size} bytes`);
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid('a JSON message', JSON.stringify(text.slice(0, 80)));
  }
  return parseTriggerMessage(json, encoding);
}

/** As `parseTriggerBytes`, for a body that is already parsed JSON (the webhook's). */
export function parseTriggerMessage(body: unknown, encoding: KeyEncoding): TriggerEvent[] {
  if (isObject(body) && 'specversion' in body) return parsePayload(cloudEventData(body), encoding);
  return parsePayload(body, encoding);
}

function parsePayload(body: unknown, encoding: KeyEncoding): TriggerEvent[] {
  if (isObject(body) && ('Records' in body || 'Event' in body))
    return parseS3Notification(body, encoding);
  // One record on its own, as some CloudEvent sources wrap each S3 record.
  if (isObject(body) && 'eventName' in body && 's3' in body)
    return parseS3Notification({ Records: [body] }, encoding);
  if (isObject(body) && 'bucket' in body && 'key' in body) {
    const parsed = commandSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'command';
      throw new MediaflowError(
        'EVENT_INVALID',
        `Expected a command {bucket, key, preset?}: ${where}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const { bucket, key, preset } = parsed.data;
    return [{ type: 'command', bucket, key, preset }];
  }
  throw invalid(
    'an S3 event notification, a CloudEvent or a {bucket, key} command',
    describe(body),
  );
}

function cloudEventData(body: object): unknown {
  const parsed = cloudEventSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MediaflowError(
      'EVENT_INVALID',
      `Expected a CloudEvent 1.0: ${issue?.path.join('.') || 'event'}: ${issue?.message}`,
    );
  }
  const { data, data_base64: base64 } = parsed.data;
  if (data !== undefined) {
    if (typeof data !== 'string') return data;
    try {
      return JSON.parse(data) as unknown;
    } catch {
      throw invalid('JSON data in the CloudEvent', JSON.stringify(data.slice(0, 80)));
    }
  }
  if (base64 !== undefined) {
    try {
      return JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as unknown;
    } catch {
      throw invalid('base64-encoded JSON in data_base64', 'something else');
    }
  }
  throw invalid('data or data_base64 in the CloudEvent', 'neither');
}

function invalid(expected: string, received: string): MediaflowError {
  return new MediaflowError('EVENT_INVALID', `Expected ${expected} but received ${received}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (isObject(value)) {
    const keys = Object.keys(value).slice(0, 5);
    return keys.length ? `an object with keys ${keys.join(', ')}` : 'an empty object';
  }
  return typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

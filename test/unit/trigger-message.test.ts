import { describe, expect, it } from 'vitest';
import { parseTriggerBytes } from '../../pipeline/events/trigger-message.js';
import { asCloudEvent, minioNotification, queryEscape } from '../helpers/minio-events.js';

describe('broker message parsing', () => {
  const key = 'uploads/a b+c/ü (1).jpg';

  it("escapes keys as Go's url.QueryEscape does", () => {
    expect(queryEscape(key)).toBe('uploads%2Fa+b%2Bc%2F%C3%BC+%281%29.jpg');
  });

  it('decodes the keys of MinIO notifications', () => {
    const events = parseTriggerBytes(
      JSON.stringify(minioNotification('in', key, { etag: 'abc', size: 3 })),
      'url',
    );
    expect(events).toEqual([
      {
        type: 'created',
        bucket: 'in',
        key,
        etag: 'abc',
        versionId: undefined,
        size: 3,
        sequencer: '17E1C0B3A8D2B5F0',
      },
    ]);
  });

  it('unwraps structured CloudEvents, inline, as a JSON string, or base64', () => {
    const notification = minioNotification('in', key, { etag: 'abc' });
    const inline = asCloudEvent(notification, '1');
    const asString = { ...inline, data: JSON.stringify(notification) };
    const { data: _data, ...rest } = inline as { data: unknown };
    const base64 = {
      ...rest,
      data_base64: Buffer.from(JSON.stringify(notification)).toString('base64'),
    };
    for (const event of [inline, asString, base64])
      expect(parseTriggerBytes(JSON.stringify(event), 'url')).toMatchObject([
        { type: 'created', bucket: 'in', key },
      ]);
  });

  it('takes a plain command with raw keys', () => {
    expect(
      parseTriggerBytes(JSON.stringify({ bucket: 'in', key, preset: 'video-sd' }), 'url'),
    ).toEqual([{ type: 'command', bucket: 'in', key, preset: 'video-sd' }]);
  });

  it('says what was expected and what came', () => {
    const error = (body: string) => {
      try {
        parseTriggerBytes(body, 'url');
      } catch (e) {
        return [(e as { code: string }).code, (e as Error).message];
      }
      return undefined;
    };
    expect(error('{oops')).toEqual([
      'EVENT_INVALID',
      'Expected a JSON message but received "{oops"',
    ]);
    expect(error('[1]')).toEqual([
      'EVENT_INVALID',
      'Expected an S3 event notification, a CloudEvent or a {bucket, key} command but ' +
        'received an array',
    ]);
    expect(error(JSON.stringify({ bucket: 'in', key: 'k', extra: 1 }))).toEqual([
      'EVENT_INVALID',
      'Expected a command {bucket, key, preset?}: command: Unrecognized key: "extra"',
    ]);
    expect(error(JSON.stringify({ specversion: '1.0', id: 'x', source: 's', type: 't' }))).toEqual([
      'EVENT_INVALID',
      'Expected data or data_base64 in the CloudEvent but received neither',
    ]);
    expect(error('x'.repeat(1024 * 1024 + 1))?.[1]).toBe(
      'Expected at most 1048576 bytes but received 1048577 bytes',
    );
  });
});

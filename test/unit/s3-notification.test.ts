import { describe, expect, it } from 'vitest';
import { parseS3Notification } from '../../pipeline/events/s3-notification.js';

const record = (key: string, eventName = 'ObjectCreated:Put') => ({
  Records: [
    {
      eventName,
      s3: {
        bucket: { name: 'uploads' },
        object: { key, eTag: '"abc123"', size: 42, sequencer: '0055' },
      },
    },
  ],
});

describe('parseS3Notification', () => {
  it('decodes AWS key encoding (spaces as +, other characters %-escaped)', () => {
    const [event] = parseS3Notification(record('holiday+videos/my+clip%2B1.mp4'), 'url');
    expect(event).toEqual({
      type: 'created',
      bucket: 'uploads',
      key: 'holiday videos/my clip+1.mp4',
      etag: 'abc123',
      versionId: undefined,
      size: 42,
      sequencer: '0055',
    });
  });

  it('decodes MinIO webhook keys, which also escape slashes', () => {
    const [event] = parseS3Notification(record('a%2Fb+c%2Fd%C3%A9.mov'), 'url');
    expect(event).toMatchObject({ type: 'created', key: 'a/b c/dé.mov' });
  });

  it('leaves raw keys alone (s3rver events, MinIO listen API)', () => {
    const [event] = parseS3Notification(record('a dir/b+c%2F.txt'), 'raw');
    expect(event).toMatchObject({ key: 'a dir/b+c%2F.txt' });
  });

  it('recognises removals and test events', () => {
    expect(parseS3Notification(record('x.mp4', 'ObjectRemoved:Delete'), 'url')).toEqual([
      { type: 'removed', bucket: 'uploads', key: 'x.mp4' },
    ]);
    expect(
      parseS3Notification(
        { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'uploads' },
        'url',
      ),
    ).toEqual([{ type: 'test' }]);
  });

  it('rejects malformed notifications with EVENT_INVALID naming the field', () => {
    expect(() =>
      parseS3Notification(
        { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: {} } }] },
        'url',
      ),
    ).toThrow(/Records\.0\.s3\.bucket\.name/);
    expect(() => parseS3Notification('nope', 'url')).toThrow(
      expect.objectContaining({ code: 'EVENT_INVALID' }),
    );
    expect(() => parseS3Notification(record('%E0%A4%A'), 'url')).toThrow(
      expect.objectContaining({ code: 'EVENT_INVALID' }),
    );
  });
});

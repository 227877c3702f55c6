import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  MediaflowError,
  fromErrorRecord,
  toErrorRecord,
} from '../../functions/errors.js';

describe('error registry', () => {
  it('marks bad media and bad requests permanent, outages retryable', () => {
    for (const code of [
      'MEDIA_EMPTY',
      'MEDIA_UNREADABLE',
      'MEDIA_UNSUPPORTED',
      'MEDIA_REFUSED',
      'MEDIA_LIMIT_EXCEEDED',
      'REQUEST_INVALID',
      'EVENT_INVALID',
    ] as const) {
      expect(ERROR_CODES[code].retryable, code).toBe(false);
    }
    expect(ERROR_CODES.STORAGE_UNAVAILABLE.retryable).toBe(true);
    expect(ERROR_CODES.QUEUE_UNAVAILABLE.retryable).toBe(true);
  });

  it('keeps code and stderr tail across a process boundary (plain JSON)', () => {
    const original = new MediaflowError('FFMPEG_FAILED', 'exit 1', {
      stderrTail: 'moov atom not found',
    });
    const overTheWire = JSON.parse(JSON.stringify({ ...original.toRecord() }));
    const record = toErrorRecord(overTheWire);
    expect(record).toEqual({
      code: 'FFMPEG_FAILED',
      message: 'exit 1',
      retryable: false,
      stderrTail: 'moov atom not found',
    });
    expect(fromErrorRecord(record)).toMatchObject({ code: 'FFMPEG_FAILED', retryable: false });
  });

  it('treats unknown errors as INTERNAL and retryable', () => {
    expect(toErrorRecord(new TypeError('boom'))).toEqual({
      code: 'INTERNAL',
      message: 'boom',
      retryable: true,
    });
    expect(toErrorRecord({ code: 'ENOENT', message: 'x' })).toMatchObject({ code: 'INTERNAL' });
  });
});

import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  listenWithReconnect,
  type NotificationSource,
} from '../../pipeline/triggers/minio-listen.js';

/**
 * MinIO's listen API cannot be exercised against s3rver (it has no such endpoint), so the
 * reconnect logic is tested here with fake pollers and a fake clock; the minio client's wiring is
 * a few lines in startMinioListener.
 */
class FakePoller extends EventEmitter implements NotificationSource {
  stopped = false;
  stop(): void {
    this.stopped = true;
  }
}

function harness(random = () => 1) {
  let clock = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 0;
  const pollers: FakePoller[] = [];
  const records: unknown[] = [];
  const errors: { attempt: number; delayMs: number }[] = [];
  const listener = listenWithReconnect(
    () => {
      const poller = new FakePoller();
      pollers.push(poller);
      return poller;
    },
    {
      onRecord: (r) => records.push(r),
      onError: (_e, attempt, delayMs) => errors.push({ attempt, delayMs }),
    },
    {
      initialDelayMs: 100,
      maxDelayMs: 1000,
      stableAfterMs: 5000,
      random,
      now: () => clock,
      setTimeout: (fn, ms) => {
        const id = nextId++;
        timers.push({ at: clock + ms, fn, id });
        return id;
      },
      clearTimeout: (id) => {
        const at = timers.findIndex((t) => t.id === id);
        if (at >= 0) timers.splice(at, 1);
      },
    },
  );
  const advance = (ms: number) => {
    clock += ms;
    for (let t = timers.find((x) => x.at <= clock); t; t = timers.find((x) => x.at <= clock)) {
      timers.splice(timers.indexOf(t), 1);
      t.fn();
    }
  };
  return {
    listener,
    pollers,
    records,
    errors,
    timers,
    advance,
    latest: () => pollers[pollers.length - 1]!,
  };
}

describe('MinIO listen: reconnect with backoff', () => {
  it('passes records on and reconnects after an error, with delays doubling up to the cap', () => {
    const h = harness();
    h.latest().emit('notification', { key: 'a' });
    expect(h.records).toEqual([{ key: 'a' }]);
    for (let i = 0; i < 6; i++) {
      const before = h.pollers.length;
      h.latest().emit('error', new Error('connection reset'));
      expect(h.pollers[before - 1]!.stopped).toBe(true);
      // Nothing reconnects before the delay is over.
      h.advance(h.errors[h.errors.length - 1]!.delayMs - 1);
      expect(h.pollers).toHaveLength(before);
      h.advance(1);
      expect(h.pollers).toHaveLength(before + 1);
    }
    expect(h.errors.map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(h.errors.map((e) => e.delayMs)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('spreads reconnects with jitter: between half and all of the exponential delay', () => {
    const low = harness(() => 0);
    low.latest().emit('error', new Error('x'));
    low.advance(50);
    low.latest().emit('error', new Error('x'));
    expect(low.errors.map((e) => e.delayMs)).toEqual([50, 100]);
  });

  it('starts the backoff over after a record arrives or a connection stays up', () => {
    const h = harness();
    h.latest().emit('error', new Error('x'));
    h.advance(100);
    h.latest().emit('error', new Error('x'));
    h.advance(200);
    h.latest().emit('notification', { key: 'b' });
    h.latest().emit('error', new Error('x'));
    expect(h.errors.map((e) => e.attempt)).toEqual([1, 2, 1]);
    h.advance(100);
    h.advance(5000);
    h.latest().emit('error', new Error('x'));
    expect(h.errors[h.errors.length - 1]!.attempt).toBe(1);
  });

  it('ignores a second error and late records from a dropped poller', () => {
    const h = harness();
    const first = h.latest();
    first.emit('error', new Error('x'));
    first.emit('error', new Error('again'));
    first.emit('notification', { key: 'late' });
    expect(h.errors).toHaveLength(1);
    expect(h.records).toEqual([]);
  });

  it('stops: the poller is stopped, a pending reconnect is cancelled', () => {
    const h = harness();
    h.latest().emit('error', new Error('x'));
    expect(h.timers).toHaveLength(1);
    h.listener.stop();
    expect(h.timers).toHaveLength(0);
    h.advance(10_000);
    expect(h.pollers).toHaveLength(1);
    const other = harness();
    other.listener.stop();
    expect(other.latest().stopped).toBe(true);
  });
});

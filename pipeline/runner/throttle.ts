/**
 * Forwards progress fractions at most once per `intervalMs`, always keeping the latest value, and
 * in order: a slow write never overtakes a later one. ffmpeg reports twice a second per output;
 * every report would otherwise be a Redis write and a pub/sub message.
 */
export interface ProgressThrottle {
  report(fraction: number): void;
  /**
   * Drops anything not yet sent and waits for what is in flight, so no late value lands after the
   * task's final state.
   */
  stop(): Promise<void>;
}

export function throttleProgress(
  send: (fraction: number) => Promise<void>,
  intervalMs: number,
  onError: (error: unknown) => void,
): ProgressThrottle {
  let last = 0;
  let pending: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<void> = Promise.resolve();
  let stopped = false;

  const flush = () => {
    timer = undefined;
    if (pending === undefined || stopped) return;
    const value = pending;
    pending = undefined;
    last = Date.now();
    inflight = inflight.then(() => send(value)).catch(onError);
  };

  return {
    report(fraction) {
      if (stopped) return;
      pending = fraction;
      const wait = last + intervalMs - Date.now();
      if (wait <= 0) flush();
      else timer ??= setTimeout(flush, wait);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      pending = undefined;
      await inflight;
    },
  };
}

export interface DeliveryLimits {
  /** Attempts (retries included) one owner may start per minute, on average. */
  perMinute: number;
  /** Attempts an idle owner may start at once before the rate applies. */
  burst: number;
  /** Attempts of one owner in flight at once. */
  maxInFlight: number;
  /** Attempts of one owner waiting for a turn; beyond it they are dropped, not queued. */
  maxQueued: number;
}

interface OwnerState {
  tokens: number;
  refilledAt: number;
  inFlight: number;
  waiting: ((release: () => void) => void)[];
  timer?: NodeJS.Timeout;
  /** The timer only forgets an idle owner; a new attempt cancels it. */
  forgetting?: boolean;
}

/**
 * A token bucket and an in-flight cap per owner (an API principal), so one caller's batch of a
 * thousand jobs with a failing `webhookUrl` cannot turn mediaflow into an amplifier, nor delay
 * other callers' deliveries: each owner waits in its own line. The line is bounded, so a flood
 * costs bounded memory; what overflows is dropped and logged by the caller.
 */
export class DeliveryLimiter {
  private readonly owners = new Map<string, OwnerState>();
  private readonly perMs: number;

  constructor(private readonly limits: DeliveryLimits) {
    this.perMs = limits.perMinute / 60_000;
  }

  /**
   * Waits for the owner's turn and returns the function that ends the attempt, or `undefined`
   * at once when the owner's line is full.
   */
  acquire(owner: string): Promise<(() => void) | undefined> {
    const state = this.stateOf(owner);
    if (state.waiting.length >= this.limits.maxQueued) return Promise.resolve(undefined);
    const turn = new Promise<() => void>((resolve) => state.waiting.push(resolve));
    this.pump(owner, state);
    return turn;
  }

  private stateOf(owner: string): OwnerState {
    let state = this.owners.get(owner);
    if (!state) {
      state = { tokens: this.limits.burst, refilledAt: Date.now(), inFlight: 0, waiting: [] };
      this.owners.set(owner, state);
    }
    return state;
  }

  private pump(owner: string, state: OwnerState): void {
    if (state.forgetting) {
      clearTimeout(state.timer);
      state.timer = undefined;
      state.forgetting = false;
    }
    const now = Date.now();
    state.tokens = Math.min(
      this.limits.burst,
      state.tokens + (now - state.refilledAt) * this.perMs,
    );
    state.refilledAt = now;
    while (state.waiting.length && state.inFlight < this.limits.maxInFlight && state.tokens >= 1) {
      state.tokens -= 1;
      state.inFlight += 1;
      let released = false;
      state.waiting.shift()!(() => {
        if (released) return;
        released = true;
        state.inFlight -= 1;
        this.pump(owner, state);
      });
    }
    if (state.timer) return;
    if (state.waiting.length && state.inFlight < this.limits.maxInFlight) {
      // Out of tokens: wake when the next one is due.
      this.wake(owner, state, (1 - state.tokens) / this.perMs);
    } else if (!state.waiting.length && !state.inFlight) {
      // Idle: forget the owner once its bucket is full again, so owners cost nothing at rest
      // and forgetting one grants no burst it had not earned.
      this.wake(owner, state, (this.limits.burst - state.tokens) / this.perMs, true);
    }
  }

  private wake(owner: string, state: OwnerState, afterMs: number, forget = false): void {
    state.forgetting = forget;
    state.timer = setTimeout(
      () => {
        state.timer = undefined;
        if (forget) this.owners.delete(owner);
        else this.pump(owner, state);
      },
      Math.max(1, Math.ceil(afterMs)),
    );
    state.timer.unref();
  }
}

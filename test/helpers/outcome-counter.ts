import type { EventOutcome } from '../../pipeline/triggers/submit-events.js';

/** Counts judged events per object key, for harnesses to wait on. */
export function outcomeCounter(): {
  onOutcome: (outcome: EventOutcome) => void;
  add: (key: string) => void;
  judged: (key: string) => number;
} {
  const counts = new Map<string, number>();
  const add = (key: string) => void counts.set(key, (counts.get(key) ?? 0) + 1);
  return {
    onOutcome: ({ event }) => void (event.type === 'test' || add(event.key)),
    add,
    judged: (key) => counts.get(key) ?? 0,
  };
}

import { Counter, Gauge, type Registry } from 'prom-client';
import type { ConsumerCounts, ConsumerSnapshot } from '../triggers/consumer-status.js';

const OUTCOMES: (keyof ConsumerCounts)[] = [
  'received',
  'created',
  'existing',
  'adopted',
  'ignored',
  'deadLettered',
  'retried',
];

/**
 * Each broker consumer's state and message counts, read from the consumers when scraped (they
 * count for their whole life, so the counters are set rather than incremented here).
 */
export function registerConsumerMetrics(
  registry: Registry,
  consumers: () => ConsumerSnapshot[],
): void {
  const registers = [registry];
  new Gauge({
    name: 'mediaflow_trigger_consumer_up',
    help: 'Whether a broker consumer is connected and consuming (1) or not (0).',
    labelNames: ['trigger', 'state'],
    registers,
    collect() {
      this.reset();
      for (const c of consumers())
        this.set({ trigger: c.trigger, state: c.state }, c.state === 'ready' ? 1 : 0);
    },
  });
  new Counter({
    name: 'mediaflow_trigger_messages_total',
    help:
      'Broker messages by outcome: received (redeliveries included), created, existing, ' +
      'adopted and ignored events, deadLettered (malformed or refused), retried (a dependency ' +
      'failed).',
    labelNames: ['trigger', 'outcome'],
    registers,
    collect() {
      this.reset();
      for (const c of consumers())
        for (const outcome of OUTCOMES)
          this.inc({ trigger: c.trigger, outcome }, c.counts[outcome]);
    },
  });
}

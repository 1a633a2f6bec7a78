/**
 * /metrics series of the bus between instances. Counts are plain numbers, read by prom-client
 * only at scrape time (as in server/metrics.ts), so a relayed message costs an increment.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RedisBus } from './RedisBus';

export class InstanceMetrics {
  readonly counts = {
    /** Messages from other instances that skipped some of that instance's messages. */
    gaps: 0,
    malformed: 0,
  };
  private readonly lag: Histogram;

  constructor(registry: Registry, bus: RedisBus, read: { otherInstances: () => number; recovered: () => number; leasesRefused: () => number }) {
    const r = [registry];
    const self = this;
    const total = (name: string, help: string, read: () => number) =>
      new Counter({ name, help, registers: r, collect() { this.reset(); this.inc(read()); } });
    new Gauge({ name: 'concord_bus_connected', help: 'Whether this instance is connected to the bus between instances (Redis): 1 or 0.', registers: r, collect() { this.set(bus.state === 'up' ? 1 : 0); } });
    new Gauge({ name: 'concord_bus_instances', help: 'Other instances of this region heard from lately.', registers: r, collect() { this.set(read.otherInstances()); } });
    total('concord_bus_messages_published_total', 'Messages published to the other instances.', () => bus.counts.published);
    total('concord_bus_publish_failures_total', 'Messages not published because Redis was not reachable (the others read them from storage).', () => bus.counts.publishFailed);
    total('concord_bus_messages_received_total', 'Messages received from the bus (including this instance\'s own, which are ignored).', () => bus.counts.received);
    total('concord_bus_reconnects_total', 'Times the bus came back after being down.', () => bus.counts.reconnects);
    total('concord_bus_gaps_detected_total', 'Gaps found in another instance\'s message sequence (a message was lost); storage was read at once.', () => self.counts.gaps);
    total('concord_bus_recoveries_total', 'Reads of storage that brought a document changes the bus had lost.', read.recovered);
    total('concord_compactions_skipped_total', 'Compactions skipped because another instance of the region was compacting the same document.', read.leasesRefused);
    total('concord_bus_malformed_total', 'Messages on the bus that could not be decoded (dropped).', () => self.counts.malformed);
    this.lag = new Histogram({
      name: 'concord_bus_lag_seconds',
      help: 'Time from another instance publishing a message to this instance receiving it.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: r,
    });
  }

  /** A message from another instance arrived; `sentAt` is its publish time (ms since epoch). */
  received(sentAt: number): void {
    this.lag.observe(Math.max(0, Date.now() - sentAt) / 1000);
  }
}

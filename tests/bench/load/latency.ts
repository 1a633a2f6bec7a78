/**
 * Propagation latency from what clients recorded: for every operation a writer applied locally,
 * the time until each other client of the document received it. Servers may merge several
 * operations into one frame (Concord, Hocuspocus), so each received update is decoded to the
 * range of each writer's operations it carries; an operation's clock is its index among the
 * writer's operations (every operation inserts exactly one character).
 */
import * as Y from 'yjs';
import { Samples } from '../stats';
import type { ReceivedUpdate } from './BenchClient';

/** What measuring needs of a client: a BenchClient, or one recorded in another process. */
export interface DeliveryRecord {
  readonly received: readonly ReceivedUpdate[];
  /** A writer's operations: when each was applied locally, indexed by its Yjs clock. */
  readonly appliedAt: readonly number[];
}

export interface Window {
  start: number;
  end: number;
}

export interface Deliveries {
  /** One latency (ms) per operation applied in the window and per client that received it. */
  latencies: Samples;
  /** First receptions of an operation by a client other than its writer, during the window. */
  inWindow: number;
}

export function measureDeliveries(clients: readonly DeliveryRecord[], writersById: ReadonlyMap<number, DeliveryRecord>, window: Window): Deliveries {
  const latencies = new Samples();
  let inWindow = 0;
  for (const observer of clients) {
    /** Per writer: operations below this clock have been received by `observer`. */
    const seen = new Map<number, number>();
    for (const { at, update } of observer.received) {
      const { from, to } = Y.parseUpdateMeta(update);
      for (const [clientId, end] of to) {
        const writer = writersById.get(clientId);
        if (!writer || writer === observer) continue;
        const already = seen.get(clientId) ?? 0;
        for (let clock = Math.max(from.get(clientId) ?? 0, already); clock < end; clock++) {
          const appliedAt = writer.appliedAt[clock];
          if (appliedAt === undefined) continue;
          if (appliedAt >= window.start && appliedAt < window.end) latencies.push(at - appliedAt);
          if (at >= window.start && at < window.end) inWindow++;
        }
        if (end > already) seen.set(clientId, end);
      }
    }
  }
  return { latencies, inWindow };
}

/**
 * The benchmark harness (tests/bench/load/) measures real figures and its convergence check
 * catches a lost update. Seconds-long runs against real server processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concordPeer } from '../bench/peers/concord';
import { rawRelayPeer } from '../bench/peers/rawRelayPeer';
import type { PeerServer } from '../bench/peers/PeerServer';
import { runLoad, type LoadOptions, type LoadSpec } from '../bench/load/runLoad';

const SPEC: LoadSpec = { documents: 1, clientsPerDocument: 6, writersPerDocument: 2, opsPerSecond: 20 };
const QUICK: Partial<LoadOptions> = { seconds: 2, warmupSeconds: 0.5, drainQuietMs: 1_000 };
/** 2 writers × 20 ops/s, each received by the 5 other clients. */
const EXPECTED_DELIVERIES_PER_SECOND = 200;

let concord: PeerServer;
let raw: PeerServer;

beforeAll(async () => {
  [concord, raw] = await Promise.all([concordPeer({ web: false }).start(), rawRelayPeer.start()]);
});
afterAll(async () => {
  await Promise.all([concord?.stop(), raw?.stop()]);
});

describe('bench harness', () => {
  it.each([
    ['Concord', () => concord],
    ['the raw relay', () => raw],
  ])('measures latency, throughput, CPU and memory of %s, and the replicas converge', async (_name, server) => {
    const result = await runLoad(server(), SPEC, QUICK);
    expect(result.convergence).toMatchObject({ passed: true, replicas: 6, failedReplicas: 0, problems: [] });
    expect(result.clients).toBe(6);
    // Every operation of the window reached the 5 other clients: 2 writers × 20/s × ~2 s × 5.
    expect(result.latency.samples).toBeGreaterThan(300);
    expect(result.latency.p50).toBeGreaterThan(0);
    expect(result.latency.p50).toBeLessThanOrEqual(result.latency.p99);
    expect(result.latency.p99).toBeLessThan(1_000);
    expect(result.deliveriesPerSecond).toBeGreaterThan(EXPECTED_DELIVERIES_PER_SECOND * 0.8);
    expect(result.deliveriesPerSecond).toBeLessThan(EXPECTED_DELIVERIES_PER_SECOND * 1.2);
    expect(result.expectedDeliveriesPerSecond).toBe(EXPECTED_DELIVERIES_PER_SECOND);
    expect(result.serverCpuMs).toBeGreaterThan(0);
    expect(Number.isFinite(result.cpuMicrosPerDelivery)).toBe(true);
    expect(result.rss.peak).toBeGreaterThan(20 * 2 ** 20);
    expect(result.rss.peak).toBeGreaterThanOrEqual(result.rss.connected);
    expect(result.setup.p50).toBeGreaterThan(0);
  });

  it('counts a 16-character chunk as one operation, delivered once to each other client', async () => {
    const result = await runLoad(concord, { ...SPEC, workload: 'chunks' }, QUICK);
    expect(result.convergence).toMatchObject({ passed: true, replicas: 6, failedReplicas: 0 });
    // As many deliveries as with single characters (not 16× as many): latency is per operation.
    expect(result.deliveriesPerSecond).toBeGreaterThan(EXPECTED_DELIVERIES_PER_SECOND * 0.8);
    expect(result.deliveriesPerSecond).toBeLessThan(EXPECTED_DELIVERIES_PER_SECOND * 1.2);
    expect(result.latency.samples).toBeGreaterThan(300);
    expect(result.latency.samples).toBeLessThan(600);
  });

  it('fails the convergence check when one client drops one incoming update', async () => {
    const result = await runLoad(concord, SPEC, { ...QUICK, drainQuietMs: 500, fault: { client: 4, nthUpdate: 3 } });
    expect(result.convergence.passed).toBe(false);
    expect(result.convergence.failedReplicas).toBe(1);
    expect(result.convergence.problems[0]).toMatch(/^client 4 \(reader\) of document 0 lacks \d+ of the \d+ operations of writer client [01]/);
  });
});

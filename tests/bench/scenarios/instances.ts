/**
 * Several instances per region (issue #13, "Benchmark"): 100 documents × 20 clients on one
 * Concord relay, on three Concord instances (shared SQLite data directory, one Redis), and on
 * three Hocuspocus instances with @hocuspocus/extension-redis; a document's clients are spread
 * round-robin over the instances (tests/bench/instances/runSpreadLoad.ts). Then a short phase in
 * which Redis drops the instances' subscriber connections a few times while everyone writes: does
 * each server converge without a client reconnecting?
 */
import { formatValue } from '../format';
import { Deployment, type DeploymentSpec } from '../instances/Deployment';
import { runSpreadLoad, type SpreadResult } from '../instances/runSpreadLoad';
import type { LoadSpec } from '../load/runLoad';
import type { Figure, Scenario, ScenarioResult, Unit } from '../scenario';
import { medianOf } from '../stats';

/**
 * 5 writers per document, as in the load scenario docs-2x20, at 2 ops/s each, as in doc-1x500:
 * docs-2x20's 10 ops/s over 100 documents would ask 95,000 deliveries/s of a 2-core machine that
 * also runs the load generator, and measure only the backlog.
 */
const LOAD: LoadSpec = { documents: 100, clientsPerDocument: 20, writersPerDocument: 5, opsPerSecond: 2 };
/** The measured window is capped so the default run (3 runs of 3 configurations) stays near 3 minutes. */
const MAX_WINDOW_SECONDS = 5;
const FAULT_WINDOW_SECONDS = 6;
const SUBSCRIBER_DROPS = 3;

interface Config {
  key: string;
  label: string;
  spec: DeploymentSpec;
}

const CONCORD_1: Config = { key: 'concord-1', label: 'Concord, 1 instance', spec: { kind: 'concord', instances: 1 } };
const CONCORD_3: Config = { key: 'concord-3', label: 'Concord, 3 instances + Redis', spec: { kind: 'concord', instances: 3 } };
const HOCUSPOCUS_3: Config = { key: 'hocuspocus-3', label: 'Hocuspocus + extension-redis, 3 instances', spec: { kind: 'hocuspocus', instances: 3 } };
const CONFIGS = [CONCORD_1, CONCORD_3, HOCUSPOCUS_3];

/** The figures Concord on 3 instances must beat Hocuspocus on 3 instances on (all: lower is better). */
const COMPARED: { name: string; unit: Unit; pick: (r: SpreadResult) => number }[] = [
  { name: 'delivery latency p50', unit: 'ms', pick: (r) => r.latency.p50 },
  { name: 'delivery latency p99', unit: 'ms', pick: (r) => r.latency.p99 },
  { name: 'server CPU per delivery (all instances)', unit: 'us', pick: (r) => r.cpuMicrosPerDelivery },
  { name: 'peak RSS per process (largest)', unit: 'bytes', pick: (r) => Math.max(...r.peakRss) },
];

function describeRun(r: SpreadResult): string {
  const c = r.convergence;
  return (
    `p50 ${formatValue(r.latency.p50, 'ms')}, p99 ${formatValue(r.latency.p99, 'ms')}, ${formatValue(r.deliveriesPerSecond, 'per_s')} of ${formatValue(r.expectedDeliveriesPerSecond, 'per_s')}, ` +
    `${formatValue(r.cpuMicrosPerDelivery, 'us')}/delivery` +
    (r.redisCpuMicrosPerDelivery !== null ? ` (+ Redis ${formatValue(r.redisCpuMicrosPerDelivery, 'us')})` : '') +
    `, load generator ${r.loadGeneratorCpuPercent.toFixed(0)} % of a core, peak RSS ${r.peakRss.map((b) => formatValue(b, 'bytes')).join(' / ')}, ` +
    (c.passed ? `${c.replicas} replicas converged` : `CONVERGENCE FAILED (${c.failedReplicas} of ${c.replicas} replicas, ${r.divergedDocuments} documents)`)
  );
}

async function measure(config: Config, seconds: number, seed: number, subscriberDrops: number): Promise<{ result: SpreadResult; bus: Awaited<ReturnType<Deployment['busCounters']>> }> {
  const deployment = await Deployment.start(config.spec);
  try {
    const result = await runSpreadLoad(deployment, LOAD, {
      seconds,
      warmupSeconds: 1,
      seed,
      subscriberDrops,
      // Concord reads storage at once (and 250 ms later) after a loss it sees, and every 5 s anyway.
      drainQuietMs: subscriberDrops ? 3_000 : 2_000,
      drainMaxMs: 30_000,
    });
    return { result, bus: await deployment.busCounters() };
  } finally {
    await deployment.stop();
  }
}

export const instances: Scenario = {
  name: 'instances',
  description:
    `${LOAD.documents} documents × ${LOAD.clientsPerDocument} clients (${LOAD.writersPerDocument} writers each at ${LOAD.opsPerSecond} ops/s) spread over ` +
    `1 vs 3 Concord instances and 3 Hocuspocus + extension-redis instances; then Redis drops the subscribers ${SUBSCRIBER_DROPS} times mid-run`,
  async run(options): Promise<ScenarioResult> {
    const seconds = Math.min(options.seconds, MAX_WINDOW_SECONDS);
    const results = new Map<string, SpreadResult[]>(CONFIGS.map((c) => [c.key, []]));
    const failures: string[] = [];
    // Interleaved: a slow spell of the shared machine does not land on one configuration only.
    for (let run = 1; run <= options.runs; run++) {
      for (const config of CONFIGS) {
        try {
          const { result } = await measure(config, seconds, run, 0);
          options.log(`  run ${run} ${config.label}: ${describeRun(result)}`);
          if (!result.convergence.passed) failures.push(`instances: ${config.label} run ${run}: ${result.convergence.problems.join('; ')}`);
          results.get(config.key)!.push(result);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          options.log(`  run ${run} ${config.label} failed: ${message}`);
          failures.push(`instances: ${config.label} run ${run}: ${message.split('\n')[0]}`);
        }
      }
    }

    const of = (key: string, pick: (r: SpreadResult) => number | null) => medianOf(results.get(key)!, pick);
    const table = [
      '| configuration | delivery p50 | delivery p95 | delivery p99 | deliveries/s (target) | server CPU per delivery, all instances | Redis CPU per delivery | peak RSS per process | RSS growth per process (peak − before clients) | load generator CPU | converged runs |',
      `|${' --- |'.repeat(11)}`,
    ];
    for (const config of CONFIGS) {
      const runs = results.get(config.key)!;
      const pick = (f: (r: SpreadResult) => number | null, unit: Unit) => formatValue(of(config.key, f), unit);
      const perInstance = (f: (r: SpreadResult, i: number) => number) =>
        Array.from({ length: config.spec.instances }, (_, i) => pick((r) => f(r, i), 'bytes')).join(' / ');
      table.push(
        `| ${config.label} | ${pick((r) => r.latency.p50, 'ms')} | ${pick((r) => r.latency.p95, 'ms')} | ${pick((r) => r.latency.p99, 'ms')} | ` +
          `${pick((r) => r.deliveriesPerSecond, 'per_s')} (${runs[0] ? formatValue(runs[0].expectedDeliveriesPerSecond, 'per_s') : '—'}) | ` +
          `${pick((r) => r.cpuMicrosPerDelivery, 'us')} | ${config.spec.instances > 1 ? pick((r) => r.redisCpuMicrosPerDelivery, 'us') : '—'} | ${perInstance((r, i) => r.peakRss[i]!)} | ${perInstance((r, i) => r.peakRss[i]! - r.rssBefore[i]!)} | ` +
          `${pick((r) => r.loadGeneratorCpuPercent, 'count')} % of a core | ${runs.filter((r) => r.convergence.passed).length} of ${runs.length} |`,
      );
    }

    const figures: Figure[] = [];
    const verdicts: string[] = [];
    for (const { name, unit, pick } of COMPARED) {
      const concord = of(CONCORD_3.key, pick);
      const hocuspocus = of(HOCUSPOCUS_3.key, pick);
      const ratio = concord / hocuspocus;
      figures.push({ name: `3 instances: ${name}, Concord ÷ Hocuspocus`, value: ratio, unit: 'count', display: Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—' });
      verdicts.push(`${name} ${Number.isFinite(ratio) ? (ratio < 1 ? 'ahead' : 'BEHIND') : 'not measured'}`);
    }
    const scaling = of(CONCORD_3.key, (r) => r.cpuMicrosPerDelivery) / of(CONCORD_1.key, (r) => r.cpuMicrosPerDelivery);
    figures.push({ name: 'Concord CPU per delivery, 3 instances ÷ 1 instance', value: scaling, unit: 'count', display: Number.isFinite(scaling) ? `${scaling.toFixed(2)}×` : '—' });

    // Dropped Redis messages: one run each, subscriber connections dropped mid-window, no client reconnects.
    const faultTable = [
      '| configuration | subscriber connections dropped | converged without clients reconnecting | documents diverged | Concord gaps detected | Concord recoveries from storage | bus reconnects |',
      `|${' --- |'.repeat(7)}`,
    ];
    for (const config of [CONCORD_3, HOCUSPOCUS_3]) {
      try {
        const { result, bus } = await measure(config, FAULT_WINDOW_SECONDS, 1, SUBSCRIBER_DROPS);
        options.log(
          `  subscriber drops, ${config.label}: dropped ${result.subscribersDropped.join(' + ')} connections; ${describeRun(result)}` +
            (bus ? `; gaps ${bus.gapsDetected}, recoveries ${bus.recoveries}, reconnects ${bus.reconnects}` : ''),
        );
        const converged = result.convergence.passed;
        faultTable.push(
          `| ${config.label} | ${result.subscribersDropped.join(' + ')} | ${converged ? 'yes' : `no (${result.convergence.failedReplicas} of ${result.convergence.replicas} replicas)`} | ` +
            `${result.divergedDocuments} of ${LOAD.documents} | ${bus ? bus.gapsDetected : 'no such counter'} | ${bus ? bus.recoveries : 'no such counter'} | ${bus ? bus.reconnects : '—'} |`,
        );
        // Concord promises convergence through storage; Hocuspocus losing messages is the finding, not a bench failure.
        if (config.spec.kind === 'concord' && !converged) failures.push(`instances: ${config.label} after subscriber drops: ${result.convergence.problems.join('; ')}`);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        options.log(`  subscriber drops, ${config.label} failed: ${message}`);
        failures.push(`instances: ${config.label} with subscriber drops: ${message.split('\n')[0]}`);
      }
    }

    return {
      figures,
      failures,
      notes: [
        table.join('\n'),
        '',
        `Concord on 3 instances vs Hocuspocus on 3 instances: ${verdicts.join(', ')}.`,
        '',
        faultTable.join('\n'),
        '',
        `Medians of ${options.runs} run(s) per configuration, interleaved; each a ${seconds} s window (\`--seconds\`, at most ${MAX_WINDOW_SECONDS}) after 1 s of warm-up. ` +
          `Client n connects to instance n mod 3, so each document's 20 clients (and its 5 writers) sit on all three instances. ` +
          'Every instance is its own process: Concord `node server/start.mjs relayMain` (TRUST_PROXY=true, each client its own X-Forwarded-For), the 3 instances sharing one SQLite DATA_DIR and a private redis-server (REDIS_URL, INSTANCE_ID); ' +
          'Hocuspocus `@hocuspocus/server` with only `@hocuspocus/extension-redis` (in memory) on the same kind of private redis-server. ' +
          'Server CPU per delivery: utime + stime of every instance process over the window ÷ first receptions by a client other than the writer; Redis CPU apart. Peak RSS: VmHWM of each instance process.',
        `Subscriber drops: one ${FAULT_WINDOW_SECONDS} s window per server; Redis closes every pub/sub connection (CLIENT KILL TYPE pubsub) ${SUBSCRIBER_DROPS} times while the writers write, evenly spaced, the last 100 ms before they stop (each drop once every instance has resubscribed); ` +
          'no client reconnects (the servers never close them). Then the usual convergence check, after waiting until nothing arrived for 3 s. ' +
          'Gaps/recoveries/reconnects: concord_bus_gaps_detected_total, concord_bus_recoveries_total, concord_bus_reconnects_total summed over the instances\' /metrics.',
      ],
    };
  },
};

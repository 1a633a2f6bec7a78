/**
 * The relay load scenarios (issue #5): headless clients over documents, writers at fixed rates,
 * every compared server measured the same way (tests/bench/load/runLoad.ts).
 */
import { acrossServers, row, runErrors } from '../compare';
import { formatValue } from '../format';
import { runLoad, type LoadResult, type LoadSpec } from '../load/runLoad';
import type { Scenario, ScenarioResult } from '../scenario';
import { CHUNK_LENGTH } from '../load/BenchClient';

function describeSpec(spec: LoadSpec): string {
  const clients = spec.documents * spec.clientsPerDocument;
  const per = spec.documents === 1 ? '1 document' : `${spec.documents} documents`;
  if (spec.writersPerDocument === 0) return `${clients.toLocaleString('en')} connections over ${per}, no writers`;
  const what = spec.workload === 'chunks' ? `${CHUNK_LENGTH}-character inserts typed forward from a cursor` : 'single characters at random places';
  return `${per} × ${spec.clientsPerDocument} clients, ${spec.writersPerDocument} writers each at ${spec.opsPerSecond} ops/s, ${what}`;
}

function loadScenario(name: string, spec: LoadSpec): Scenario {
  return {
    name,
    description: describeSpec(spec),
    async run(options): Promise<ScenarioResult> {
      const results = await acrossServers<LoadResult>(options, async (peer, run) => {
        const server = await peer.start();
        try {
          const result = await runLoad(server, spec, { seconds: options.seconds, seed: run });
          const c = result.convergence;
          options.log(
            `  run ${run} ${peer.name}: ` +
              (spec.writersPerDocument
                ? `p50 ${formatValue(result.latency.p50, 'ms')}, p99 ${formatValue(result.latency.p99, 'ms')}, ${formatValue(result.deliveriesPerSecond, 'per_s')}, ${formatValue(result.cpuMicrosPerDelivery, 'us')}/delivery, `
                : `set-up p50 ${formatValue(result.setup.p50, 'ms')}, all ${formatValue(result.setup.allMs, 'ms')}, ${formatValue(result.rss.perConnection, 'bytes')}/connection, `) +
              `peak RSS ${formatValue(result.rss.peak, 'bytes')}, ${c.passed ? `${c.replicas} replicas converged` : `CONVERGENCE FAILED (${c.failedReplicas} of ${c.replicas} replicas)`}`,
          );
          return result;
        } finally {
          await server.stop();
        }
      });
      const failures = runErrors(name, results);
      for (const [server, runs] of results) {
        runs.forEach((r, i) => {
          if (r instanceof Error || r.convergence.passed) return;
          failures.push(`${name}: ${server} run ${i + 1}: replicas differ — ${r.convergence.problems.join('; ')}`);
        });
      }
      const clients = spec.documents * spec.clientsPerDocument;
      const expectedDeliveries = spec.documents * spec.writersPerDocument * spec.opsPerSecond * (spec.clientsPerDocument - 1);
      const rows = spec.writersPerDocument
        ? [
            row('propagation latency p50', 'ms', 'lower', results, (r) => r.latency.p50),
            row('propagation latency p95', 'ms', 'lower', results, (r) => r.latency.p95),
            row('propagation latency p99', 'ms', 'lower', results, (r) => r.latency.p99),
            row(`deliveries/s (target ${formatValue(expectedDeliveries, 'count')})`, 'per_s', 'higher', results, (r) => r.deliveriesPerSecond),
            row('server CPU per delivery', 'us', 'lower', results, (r) => r.cpuMicrosPerDelivery),
            row('server peak RSS', 'bytes', 'lower', results, (r) => r.rss.peak),
            row('connection set-up p50', 'ms', 'lower', results, (r) => r.setup.p50),
          ]
        : [
            row('connection set-up p50', 'ms', 'lower', results, (r) => r.setup.p50),
            row('connection set-up p95', 'ms', 'lower', results, (r) => r.setup.p95),
            row(`all ${clients.toLocaleString('en')} connected`, 'ms', 'lower', results, (r) => r.setup.allMs),
            row('server RSS before', 'bytes', 'lower', results, (r) => r.rss.before),
            row(`server RSS with ${clients.toLocaleString('en')} connections`, 'bytes', 'lower', results, (r) => r.rss.connected),
            row('RSS per connection', 'bytes', 'lower', results, (r) => r.rss.perConnection),
            row('server peak RSS', 'bytes', 'lower', results, (r) => r.rss.peak),
          ];
      const converged = [...results.values()].flat().filter((r) => !(r instanceof Error) && r.convergence.passed).length;
      const total = [...results.values()].flat().length;
      return {
        rows,
        failures,
        notes: [
          spec.writersPerDocument
            ? `${options.seconds} s measured window after 1 s of warm-up; ` +
              (spec.workload === 'chunks'
                ? `each operation inserts ${CHUNK_LENGTH} characters at the writer's cursor (a relative position kept after its last insert), one latency per operation.`
                : 'each writer types one character per operation at a random place.')
            : `Clients connect in batches of 50; each is set up when its sync step 2 arrives (raw relay: when the socket opens). RSS per connection = (RSS with connections − RSS before) / ${clients.toLocaleString('en')}.`,
          `Convergence: ${converged} of ${total} runs ended with every replica identical and complete.`,
        ],
      };
    },
  };
}

export const loadScenarios: Scenario[] = [
  loadScenario('docs-2x20', { documents: 2, clientsPerDocument: 20, writersPerDocument: 5, opsPerSecond: 10 }),
  loadScenario('doc-1x200', { documents: 1, clientsPerDocument: 200, writersPerDocument: 10, opsPerSecond: 5 }),
  loadScenario('connections-1000', { documents: 100, clientsPerDocument: 10, writersPerDocument: 0, opsPerSecond: 0 }),
  loadScenario('doc-1x500', { documents: 1, clientsPerDocument: 500, writersPerDocument: 25, opsPerSecond: 2 }),
  loadScenario('doc-1x1000', { documents: 1, clientsPerDocument: 1000, writersPerDocument: 50, opsPerSecond: 1 }),
  // Issue #14's harness workload, next to the single characters above.
  loadScenario('docs-2x20-chunks', { documents: 2, clientsPerDocument: 20, writersPerDocument: 5, opsPerSecond: 10, workload: 'chunks' }),
  loadScenario('doc-1x200-chunks', { documents: 1, clientsPerDocument: 200, writersPerDocument: 10, opsPerSecond: 5, workload: 'chunks' }),
  loadScenario('doc-1x500-chunks', { documents: 1, clientsPerDocument: 500, writersPerDocument: 25, opsPerSecond: 2, workload: 'chunks' }),
];

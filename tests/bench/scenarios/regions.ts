/**
 * The region benchmarks (issue #12), Concord only: replication lag between three regions under
 * load, with and without 100 ms of one-way delay on every link, against one region alone
 * (`region-lag`); catching up 1,000 documents changed during a partition (`region-catchup`).
 * Regions are separate relay processes on loopback (tests/bench/regions/BenchRegions.ts).
 */
import { formatValue } from '../format';
import { runRegionCatchUp, type CatchUpResult } from '../regions/regionCatchUp';
import { runRegionLag, type RegionLagResult, type RegionLagSpec } from '../regions/regionLag';
import type { Figure, Scenario, ScenarioResult, Unit } from '../scenario';
import { medianOf } from '../stats';

const LOAD = { clientsPerRegion: 20, writersPerRegion: 5, opsPerSecond: 10 };
const REGIONS = 3;
const LINK_DELAY_MS = 100;
/**
 * Profiles of the regions showed each relay busy in runs of 80–200 ms through its first two
 * seconds under load (code not yet optimised, every client's first frames), quiet after: the
 * window opens once that is over, for every configuration alike.
 */
const WARMUP_SECONDS = 3;

interface LagConfig {
  key: string;
  label: string;
  spec: RegionLagSpec;
}

/**
 * Two one-region baselines: one region's share of the users (20 clients, 5 writers), and all of
 * them on one relay (60 clients, 15 writers: the same document traffic every region carries
 * when there are three, 150 changes/s to every client).
 */
const LAG_CONFIGS: LagConfig[] = [
  { key: '1-region', label: `1 region, ${LOAD.clientsPerRegion} clients`, spec: { regions: 1, delayMs: 0, ...LOAD } },
  {
    key: '1-region-all',
    label: `1 region, all ${REGIONS * LOAD.clientsPerRegion} clients`,
    spec: { regions: 1, delayMs: 0, ...LOAD, clientsPerRegion: REGIONS * LOAD.clientsPerRegion, writersPerRegion: REGIONS * LOAD.writersPerRegion },
  },
  { key: '3-regions-0ms', label: `${REGIONS} regions, 0 ms`, spec: { regions: REGIONS, delayMs: 0, ...LOAD } },
  { key: `3-regions-${LINK_DELAY_MS}ms`, label: `${REGIONS} regions, ${LINK_DELAY_MS} ms`, spec: { regions: REGIONS, delayMs: LINK_DELAY_MS, ...LOAD } },
];

function figure(name: string, value: number, unit: Unit): Figure {
  return { name, value, unit, display: formatValue(value, unit) };
}

function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '—';
}

export const regionLag: Scenario = {
  name: 'region-lag',
  description:
    `replication lag: 1 region (with one region's share of the clients, and with all of them), then ${REGIONS} regions with 0 and ${LINK_DELAY_MS} ms one-way link delay; one document, ` +
    `${LOAD.clientsPerRegion} clients per region, ${LOAD.writersPerRegion} writers per region at ${LOAD.opsPerSecond} ops/s`,
  async run(options): Promise<ScenarioResult> {
    const results = new Map<string, (RegionLagResult | Error)[]>(LAG_CONFIGS.map((c) => [c.key, []]));
    const failures: string[] = [];
    // Interleaved (run 1 of every configuration, then run 2…): a slow spell of the shared machine
    // then does not land on one configuration only.
    for (let run = 1; run <= options.runs; run++) {
      for (const config of LAG_CONFIGS) {
        try {
          const r = await runRegionLag(config.spec, { seconds: options.seconds, warmupSeconds: WARMUP_SECONDS, seed: run, log: (line) => options.log(`    ${line}`) });
          options.log(
            `  run ${run} ${config.label}: local p50 ${formatValue(r.local.p50, 'ms')} p99 ${formatValue(r.local.p99, 'ms')}` +
              (r.crossRegion ? `, cross-region p50 ${formatValue(r.crossRegion.p50, 'ms')} p99 ${formatValue(r.crossRegion.p99, 'ms')}` : '') +
              `, ${formatValue(r.deliveriesPerSecond, 'per_s')} of ${formatValue(r.expectedDeliveriesPerSecond, 'per_s')}` +
              `, peak RSS ${r.regions.map((g) => `${g.name} ${formatValue(g.peakRss, 'bytes')}`).join(' / ')}` +
              (r.linkUpdatesPerOperation ? `, link updates per operation ${r.linkUpdatesPerOperation.messages.toFixed(2)} (${formatValue(r.linkUpdatesPerOperation.bytes, 'bytes')})` : '') +
              (r.backlogEmptyAfterMs !== null ? `, backlogs empty ${formatValue(r.backlogEmptyAfterMs, 'ms')} after the writers stopped (max lag seen ${r.maxLagSeconds.toFixed(1)} s)` : '') +
              `, ${r.convergence.passed ? `${r.convergence.replicas} replicas converged` : 'CONVERGENCE FAILED'}`,
          );
          if (!r.convergence.passed) failures.push(`region-lag: ${config.label} run ${run}: ${r.convergence.problems.join('; ')}`);
          if (r.errors.length) failures.push(`region-lag: ${config.label} run ${run}: error lines in the region logs: ${r.errors.slice(0, 5).join('; ')}`);
          results.get(config.key)!.push(r);
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          options.log(`  run ${run} ${config.label} failed: ${error.message}`);
          failures.push(`region-lag: ${config.label} run ${run}: ${error.message.split('\n')[0]}`);
          results.get(config.key)!.push(error);
        }
      }
    }

    const of = (key: string, pick: (r: RegionLagResult) => number | null) => medianOf(results.get(key)!, pick);
    const [share, all, near, far] = LAG_CONFIGS.map((c) => c.key) as [string, string, string, string];
    const figures: Figure[] = [];
    for (const config of LAG_CONFIGS) {
      figures.push(figure(`${config.label}: local p50`, of(config.key, (r) => r.local.p50), 'ms'));
      figures.push(figure(`${config.label}: local p99`, of(config.key, (r) => r.local.p99), 'ms'));
      if (config.spec.regions > 1) {
        figures.push(figure(`${config.label}: cross-region p50`, of(config.key, (r) => r.crossRegion?.p50 ?? null), 'ms'));
        figures.push(figure(`${config.label}: cross-region p99`, of(config.key, (r) => r.crossRegion?.p99 ?? null), 'ms'));
      }
    }
    const localP99 = (key: string) => of(key, (r) => r.local.p99);
    const ratios: [string, number][] = [
      [`local p99, ${REGIONS} regions ${LINK_DELAY_MS} ms ÷ 1 region with all ${REGIONS * LOAD.clientsPerRegion} clients (same users, same edits)`, localP99(far) / localP99(all)],
      [`local p99, ${REGIONS} regions ${LINK_DELAY_MS} ms ÷ 1 region with ${LOAD.clientsPerRegion} clients (one region's share)`, localP99(far) / localP99(share)],
      // The same load with and without the delay: what the delay alone does to local clients.
      [`local p99, ${REGIONS} regions ${LINK_DELAY_MS} ms ÷ ${REGIONS} regions 0 ms (the delay alone)`, localP99(far) / localP99(near)],
    ];
    for (const [name, value] of ratios) figures.push({ name, value, unit: 'count', display: ratio(value) });
    figures.push(figure(`cross-region p99 − ${LINK_DELAY_MS} ms delay`, of(far, (r) => (r.crossRegion ? r.crossRegion.p99 - LINK_DELAY_MS : null)), 'ms'));
    // What crossing costs with no delay at all (two relays and a proxy on this machine): the part of the above that is not the link.
    figures.push(figure(`cross-region p99 with a 0 ms link`, of(near, (r) => r.crossRegion?.p99 ?? null), 'ms'));
    for (const config of LAG_CONFIGS) {
      figures.push(figure(`${config.label}: peak RSS per region process (largest)`, of(config.key, (r) => Math.max(...r.regions.map((g) => g.peakRss))), 'bytes'));
    }

    const header =
      '| configuration | local p50 | local p95 | local p99 | cross-region p50 | cross-region p95 | cross-region p99 | deliveries/s (target) | relay CPU per region | CPU of the client processes (together) | client process event-loop delay p99 / max (worst) | peak RSS per region | backlogs empty after writers stop | max lag seen | link update messages / bytes per operation |';
    const table = [header, `|${' --- |'.repeat(15)}`];
    for (const config of LAG_CONFIGS) {
      const pick = (f: (r: RegionLagResult) => number | null, unit: Unit) => formatValue(of(config.key, f), unit);
      const first = results.get(config.key)!.find((r): r is RegionLagResult => !(r instanceof Error));
      const multi = config.spec.regions > 1;
      table.push(
        `| ${config.label} | ${pick((r) => r.local.p50, 'ms')} | ${pick((r) => r.local.p95, 'ms')} | ${pick((r) => r.local.p99, 'ms')} | ` +
          (multi ? `${pick((r) => r.crossRegion!.p50, 'ms')} | ${pick((r) => r.crossRegion!.p95, 'ms')} | ${pick((r) => r.crossRegion!.p99, 'ms')} | ` : '— | — | — | ') +
          `${pick((r) => r.deliveriesPerSecond, 'per_s')} (${first ? formatValue(first.expectedDeliveriesPerSecond, 'per_s') : '—'}) | ` +
          `${pick((r) => Math.max(...r.regions.map((g) => g.cpuMsPerSecond)) / 10, 'count')} % of a core | ` +
          `${pick((r) => r.loadGeneratorCpuMsPerSecond / 10, 'count')} % of a core | ` +
          `${pick((r) => r.loadGeneratorLoopDelay.p99, 'ms')} / ${pick((r) => r.loadGeneratorLoopDelay.max, 'ms')} | ` +
          `${pick((r) => Math.max(...r.regions.map((g) => g.peakRss)), 'bytes')} | ` +
          (multi
            ? `${pick((r) => r.backlogEmptyAfterMs, 'ms')} | ${of(config.key, (r) => r.maxLagSeconds).toFixed(1)} s | ` +
              `${of(config.key, (r) => r.linkUpdatesPerOperation?.messages ?? null).toFixed(2)} / ${pick((r) => r.linkUpdatesPerOperation?.bytes ?? null, 'bytes')} |`
            : '— | — | — |'),
      );
    }
    const warnings = [...results.values()].flat().flatMap((r) => (r instanceof Error ? [] : r.warnings));
    return {
      figures,
      failures,
      notes: [
        table.join('\n'),
        '',
        `Medians of ${options.runs} run(s) per configuration, interleaved; each a ${options.seconds} s window (\`--seconds\`) after ${WARMUP_SECONDS} s of warm-up. ` +
          `Regions are relay processes on loopback with fresh data directories; links run through TCP proxies adding the one-way delay to every chunk (server/dev/tcpProxy.ts), clients connect to their region directly. ` +
          `Local: a writer's operation → the other clients of its region; cross-region: → every client of the other regions. 1 region is a plain relay (no REGION), with one region's share (${LOAD.clientsPerRegion} clients, ${LOAD.writersPerRegion} writers) or with all ${REGIONS * LOAD.clientsPerRegion} clients and ${REGIONS * LOAD.writersPerRegion} writers (each of the ${REGIONS} regions carries that document traffic too). ` +
          `Relay CPU and peak RSS: the busiest region's process. Max lag: the largest lagSeconds any region's /healthz showed, sampled each second. ` +
          `Clients run in processes of their own, 20 to a process, each region's in its own (tests/bench/regions/ClientGroup.ts): a client's arrival times are read on its process's event loop, so the worst loop delay of a client process is shown beside the latencies; their CPU is per second of writing, warm-up included.`,
        `Region log warnings once the writers started (start-up ones are expected: both sides dial, one link of two is closed): ${warnings.length ? `${warnings.length} (${[...new Set(warnings)].slice(0, 5).join('; ')})` : 'none'}.`,
      ],
    };
  },
};

const CATCH_UP_DOCUMENTS = 1_000;

const SENDER_INSTANCES = 3;

const CATCH_UP_VARIANTS: { label: string; open: boolean; delayMs: number; senderInstances?: number }[] = [
  { label: 'documents open, 0 ms link', open: true, delayMs: 0 },
  { label: 'nobody has them open, 0 ms link', open: false, delayMs: 0 },
  { label: `nobody has them open, ${LINK_DELAY_MS} ms link`, open: false, delayMs: LINK_DELAY_MS },
  // Issue #13: the same backlog drained by the one instance of three that holds the links.
  { label: `nobody has them open, 0 ms link, a on ${SENDER_INSTANCES} instances`, open: false, delayMs: 0, senderInstances: SENDER_INSTANCES },
];

export const regionCatchUp: Scenario = {
  name: 'region-catchup',
  description:
    `catch-up after a partition: ${CATCH_UP_DOCUMENTS.toLocaleString('en')} documents changed in one of two regions, with their documents open, ` +
    `with nobody having them open, and the same over a ${LINK_DELAY_MS} ms link`,
  async run(options): Promise<ScenarioResult> {
    const failures: string[] = [];
    const figures: Figure[] = [];
    const notes: string[] = [];
    const catchUpMs = new Map<string, number>();
    for (const { label, open, delayMs, senderInstances } of CATCH_UP_VARIANTS) {
      let r: CatchUpResult;
      try {
        r = await runRegionCatchUp({ documents: CATCH_UP_DOCUMENTS, open, delayMs, senderInstances }, { log: (line) => options.log(`    ${line}`) });
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        options.log(`  ${label} failed: ${error.message}`);
        failures.push(`region-catchup: ${label}: ${error.message.split('\n')[0]}`);
        continue;
      }
      options.log(
        `  ${label}: link up ${formatValue(r.linkUpMs, 'ms')} after healing, backlog empty ${formatValue(r.catchUpMs, 'ms')} after the link came up; ` +
          `peak RSS sender ${formatValue(r.sender.peakRssDuring, 'bytes')} (+${formatValue(r.sender.peakRssDuring - r.sender.rssBefore, 'bytes')}), ` +
          `receiver ${formatValue(r.receiver.peakRssDuring, 'bytes')} (+${formatValue(r.receiver.peakRssDuring - r.receiver.rssBefore, 'bytes')}); ` +
          `${r.check.equal} of ${r.documents} documents equal in both regions' storage`,
      );
      failures.push(...r.problems.map((p) => `region-catchup: ${label}: ${p}`));
      catchUpMs.set(label, r.catchUpMs);
      figures.push(
        figure(`${label}: time to catch up (link up → backlog empty)`, r.catchUpMs, 'ms'),
        figure(`${label}: heal → link up (redial back-off)`, r.linkUpMs, 'ms'),
        ...(r.clientsHaveAllMs !== null ? [figure(`${label}: link up → every client of the other region has every change`, r.clientsHaveAllMs, 'ms')] : []),
        figure(`${label}: sending region peak RSS during catch-up`, r.sender.peakRssDuring, 'bytes'),
        figure(`${label}: catching-up region peak RSS during catch-up`, r.receiver.peakRssDuring, 'bytes'),
        figure(`${label}: RSS growth during catch-up, sender / catching-up`, r.sender.peakRssDuring - r.sender.rssBefore, 'bytes'),
      );
      figures[figures.length - 1]!.display += ` / ${formatValue(r.receiver.peakRssDuring - r.receiver.rssBefore, 'bytes')}`;
      notes.push(
        `${label}: ${r.documents.toLocaleString('en')} documents changed in region a during the partition in ${formatValue(r.writeMs, 'ms')} ` +
          `(${formatValue(r.backlogBytes, 'bytes')} of backlog); RSS before healing: sender ${formatValue(r.sender.rssBefore, 'bytes')}, receiver ${formatValue(r.receiver.rssBefore, 'bytes')}; ` +
          `process peaks over the whole run (VmHWM): sender ${formatValue(r.sender.lifetimePeak, 'bytes')}, receiver ${formatValue(r.receiver.lifetimePeak, 'bytes')}; ` +
          `storage check after SIGTERM: ${r.check.equal} of ${r.documents} with equal digests in both regions, equal to the writer's` +
          `${r.warnings.length ? `; region log warnings after healing: ${r.warnings.length} (${[...new Set(r.warnings)].slice(0, 4).join('; ')})` : ''}.`,
      );
    }
    const [, oneInstance, , threeInstances] = CATCH_UP_VARIANTS.map((v) => catchUpMs.get(v.label) ?? Number.NaN);
    const instancesRatio = threeInstances! / oneInstance!;
    figures.push({
      name: `time to catch up, a on ${SENDER_INSTANCES} instances ÷ 1 instance (nobody has them open, 0 ms link)`,
      value: instancesRatio,
      unit: 'count',
      display: Number.isFinite(instancesRatio) ? `${instancesRatio.toFixed(2)}×` : '—',
    });
    notes.push(
      `"a on ${SENDER_INSTANCES} instances": region a is ${SENDER_INSTANCES} relay processes sharing its data directory and a private redis-server (REDIS_URL, INSTANCE_ID); document i's client uses instance i mod ${SENDER_INSTANCES}, so every instance stores changes and marks the shared backlog, and the instance holding the region links drains it; a's /healthz is read from that instance, its RSS is the instance whose RSS peaked highest.`,
    );
    notes.push(
      'Two regions (relay processes, fresh data directories, the link through TCP proxies in their own process). Every document first gets a paragraph in region a, replicated and confirmed; ' +
        'then the link is cut (both proxies), each document gets 5 more paragraphs in a (one client per document, 50 at a time, each waiting until its edits are stored: stored-ack marks), and the link is healed. ' +
        '"Documents open": a client of each document stays connected in both regions throughout; "nobody has them open": every client left and both regions unloaded every document before healing. ' +
        "Catch-up time runs from the link being up again (both /healthz say \"up\") until region a's backlog for b is empty (/healthz polled every 50 ms); a confirmation means b's storage holds the document. " +
        'RSS during catch-up: VmRSS of each process sampled every 50 ms from healing until the backlog is empty.',
    );
    return { figures, failures, notes };
  },
};

export const regionScenarios: Scenario[] = [regionLag, regionCatchUp];

/**
 * Version history on the automerge-paper trace (issue #16, "Benchmark"): the trace replayed at a
 * steady rate through a relay that records a version every 1,000 edits (the HistoryRecorder, as
 * in production), and through the same relay with history off, in the same run. Then: what each
 * stored, cold load of the document from each, listing and opening versions, and the editing
 * latency of the two builds. Concord relays (startServer, no web app) in child processes on
 * SQLite in scratch directories; `--server` does not apply.
 */
import os from 'node:os';
import * as Y from 'yjs';
import type { DocumentCapabilities } from '../../../lib/auth/capabilities';
import { TempDirs } from '../../support/tempDirs';
import { paperDocument, paperText, type PaperDocument } from '../documents/paperDocument';
import { timeFullSync } from '../documents/receivedDocument';
import { formatBytes, formatValue } from '../format';
import { benchDocument, startHistoryServer, type HistoryServerConfig } from '../history/HistoryServer';
import { pacedBuild, type PacedBuild } from '../history/pacedBuild';
import { analyseHistory, storedRows, type HistoryAnalysis, type StoredRows } from '../history/storedHistory';
import type { BenchDocument } from '../load/framing';
import type { PeerServer } from '../peers/PeerServer';
import type { Figure, Scenario, ScenarioResult, Unit } from '../scenario';
import { median, percentile } from '../stats';
import { withTimeout } from '../waiting';

/** A busy document: fast enough to replay 259,780 edits in about two minutes, far below the relay's bulk rate. */
const EDITS_PER_SECOND = 2_000;
/**
 * The recorder as production runs it (a version every 1,000 changes), swept every 10 ms instead
 * of every second so that at this rate a version lands soon after its 1,000th edit (a sweep
 * looks at one map entry); the last edits become a version after a quiet 0.5 s. On a busy
 * machine the relay takes edits in bursts between sweeps and versions come farther apart: the
 * count recorded is reported.
 */
const RECORDER = { everyChanges: 1_000, quietMs: 500, sweepMs: 10 } as const;
const WARM_REPEATS = 5;

interface Mode {
  history: boolean;
  config: HistoryServerConfig;
  caps: DocumentCapabilities;
  doc: BenchDocument;
  build: PacedBuild;
  rows: StoredRows & { historyUpdates: Uint8Array[] };
}

interface ApiRun {
  listColdMs: number;
  listWarmMs: number;
  newestMs: number;
  oldestMs: number;
  /** As the first request of a fresh server (the history document loads first). */
  newestColdMs: number;
  newestBytes: number;
  oldestBytes: number;
  listed: number;
}

async function metric(server: PeerServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
  if (value === undefined) throw new Error(`/metrics has no ${name}`);
  return Number(value);
}

/** Until no document waits for a version and the count of recorded versions stays still. */
async function versionsSettled(server: PeerServer): Promise<number> {
  const settle = async () => {
    let last = -1;
    let still = 0;
    for (;;) {
      const [pending, recorded] = await Promise.all([metric(server, 'concord_history_pending_documents'), metric(server, 'concord_versions_recorded_total')]);
      still = pending === 0 && recorded === last ? still + 1 : 0;
      if (still >= 3) return recorded;
      last = recorded;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return withTimeout(settle(), 60_000, 'the last version to be recorded');
}

async function buildMode(history: boolean, paper: PaperDocument, dirs: TempDirs, log: (line: string) => void): Promise<Mode> {
  const config: HistoryServerConfig = { dataDir: dirs.make(`bench-history-${history ? 'on' : 'off'}-`), history: history ? { ...RECORDER } : false };
  const { caps, doc } = benchDocument();
  const server = await startHistoryServer(config, doc);
  let build: PacedBuild;
  try {
    try {
      build = await pacedBuild(server, doc, paper, EDITS_PER_SECOND);
    } catch (err) {
      throw new Error(`history ${history ? 'on' : 'off'}: ${(err as Error).message}\nlast server log lines:\n${server.lastLines(5)}`);
    }
    const recorded = history ? await versionsSettled(server) : 0;
    log(`  history ${history ? 'on' : 'off'}: replayed in ${(build.buildMs / 1000).toFixed(1)} s, p99 ${formatValue(percentile(build.latencies.sorted(), 99), 'ms')}${history ? `, ${recorded} versions recorded` : ''}`);
    // A clean shutdown, as a deployment's: everything stored (and no burst left unrecorded).
    await server.stop('SIGTERM');
  } finally {
    await server.stop();
  }
  return { history, config, caps, doc, build, rows: await storedRows(config.dataDir, caps.docId) };
}

function checkText(doc: Y.Doc, expected: string, what: string): void {
  const text = paperText(doc);
  if (text !== expected) throw new Error(`${what}: the text differs (${text?.length ?? 'no'} characters, expected ${expected.length})`);
}

/** A fresh server on a mode's data, and the first client's full sync of the paper. */
async function coldLoad(mode: Mode, paper: PaperDocument, clientIndex: number): Promise<number> {
  const server = await startHistoryServer(mode.config, mode.doc);
  try {
    const sync = await timeFullSync(server, mode.doc, paper, clientIndex);
    checkText(sync.doc, paper.endText, `history ${mode.history ? 'on' : 'off'}, the first client after a restart`);
    await server.stop('SIGTERM');
    return sync.ms;
  } finally {
    await server.stop();
  }
}

async function timed<T>(request: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await request();
  return { ms: performance.now() - started, value };
}

function versionsApi(server: PeerServer, caps: DocumentCapabilities) {
  const get = async (path: string) => {
    const res = await fetch(`${server.url}/api/docs/${caps.docId}/versions${path}`, { headers: { Authorization: `Bearer ${caps.view}` } });
    if (res.status !== 200) throw new Error(`GET …/versions${path}: ${res.status} ${await res.text()}`);
    return res;
  };
  return {
    list: async () => ((await (await get('')).json()) as { versions: { id: string }[] }).versions,
    open: async (id: string) => new Uint8Array(await (await get(`/${id}?format=yjs`)).arrayBuffer()),
  };
}

function textOf(update: Uint8Array): string | null {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return paperText(doc);
}

/** Two fresh servers on the history's data: one lists first, then opens; one opens the newest first. */
async function apiRun(mode: Mode, paper: PaperDocument): Promise<ApiRun> {
  let server = await startHistoryServer(mode.config, mode.doc);
  try {
    const api = versionsApi(server, mode.caps);
    const cold = await timed(api.list);
    const listed = cold.value;
    const newestId = listed[0]!.id;
    const oldestId = listed.at(-1)!.id;
    const newest = await timed(() => api.open(newestId));
    const oldest = await timed(() => api.open(oldestId));
    const newestText = textOf(newest.value);
    if (newestText !== paper.endText) throw new Error(`the newest version's text differs from the trace's end (${newestText?.length ?? 'no'} characters)`);
    const oldestText = textOf(oldest.value);
    if (!oldestText || oldestText.length >= paper.endText.length || !paper.endText.length) throw new Error(`the oldest version's text is not an early state (${oldestText?.length ?? 'no'} characters)`);
    const warm = { list: [] as number[], newest: [] as number[], oldest: [] as number[] };
    for (let i = 0; i < WARM_REPEATS; i++) {
      warm.list.push((await timed(api.list)).ms);
      warm.newest.push((await timed(() => api.open(newestId))).ms);
      warm.oldest.push((await timed(() => api.open(oldestId))).ms);
    }
    await server.stop('SIGTERM');
    await server.stop();
    server = await startHistoryServer(mode.config, mode.doc);
    const newestCold = await timed(() => versionsApi(server, mode.caps).open(newestId));
    await server.stop('SIGTERM');
    return {
      listColdMs: cold.ms,
      listWarmMs: median(warm.list),
      newestMs: median(warm.newest),
      oldestMs: median(warm.oldest),
      newestColdMs: newestCold.ms,
      newestBytes: newest.value.byteLength,
      oldestBytes: oldest.value.byteLength,
      listed: listed.length,
    };
  } finally {
    await server.stop();
  }
}

function figure(name: string, value: number, unit: Unit, display = formatValue(value, unit)): Figure {
  return { name, value, unit, display };
}

const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');
const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(0)} %`;

/** "with / without (ratio)" for a pair of values. */
function pair(name: string, on: number, off: number, unit: Unit, extra = ''): Figure {
  return figure(name, on, unit, `${formatValue(on, unit)} / ${formatValue(off, unit)} (${ratio(on, off)})${extra}`);
}

function runsOf(values: number[], unit: Unit): string {
  return values.length > 1 ? `; runs: ${values.map((v) => formatValue(v, unit)).join(', ')}` : '';
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
}

function results(on: Mode, off: Mode, analysis: HistoryAnalysis, cold: { on: number[]; off: number[] }, api: ApiRun[], paper: PaperDocument): Figure[] {
  const latency = (m: Mode) => {
    const sorted = m.build.latencies.sorted();
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN, n: sorted.length };
  };
  const lOn = latency(on);
  const lOff = latency(off);
  const totalOn = on.rows.documentBytes + on.rows.historyBytes;
  const totalOff = off.rows.documentBytes + off.rows.historyBytes;
  const a = analysis;
  const diffBytes = a.updateBytes - a.keyframeBytes;
  const saved = (bytes: number) => `${formatBytes(bytes)} (saves ${percent(a.updateBytes - bytes, a.updateBytes)} of the records, ≈ ${formatBytes(totalOn - (a.updateBytes - bytes))} stored in all)`;
  const apiMedian = (pick: (r: ApiRun) => number) => median(api.map(pick));
  const apiRuns = (pick: (r: ApiRun) => number) => runsOf(api.map(pick), 'ms');
  return [
    figure('versions recorded (recorder, every 1,000 changes)', a.versions, 'count', `${a.versions} (${a.keyframes} keyframes, longest chain ${a.longestChain}); ${api[0]?.listed ?? '—'} listed by the API`),
    pair('stored: document + history document rows, with / without history', totalOn, totalOff, 'bytes'),
    figure('stored with history: document rows / history document rows', on.rows.historyBytes, 'bytes', `${formatBytes(on.rows.documentBytes)} / ${formatBytes(on.rows.historyBytes)} (history = ${ratio(on.rows.historyBytes, on.rows.documentBytes)} the document)`),
    pair('stored: SQLite files incl. WAL and free pages, with / without history', on.rows.fileBytes, off.rows.fileBytes, 'bytes'),
    figure(
      'version records: keyframes / diffs',
      a.updateBytes,
      'bytes',
      `${formatBytes(a.keyframeBytes)} in ${a.keyframes} / ${formatBytes(diffBytes)} in ${a.versions - a.keyframes} (deletions since their base: ${formatBytes(a.diffDeleteSetBytes)}, ${percent(a.diffDeleteSetBytes, diffBytes)})`,
    ),
    figure('for reference: the diffs with their whole delete sets (the format before 099186a)', a.wholeDeleteSetBytes, 'bytes', `${formatBytes(a.wholeDeleteSetBytes)} (${ratio(a.wholeDeleteSetBytes, a.updateBytes)} the records as stored)`),
    figure('measured only: each record\'s update deflated (deflate-raw, level 6)', a.deflatedBytes, 'bytes', saved(a.deflatedBytes)),
    figure('measured only: the history document\'s whole state deflated at once', a.deflatedHistoryStateBytes, 'bytes', `${formatBytes(a.historyStateBytes)} → ${formatBytes(a.deflatedHistoryStateBytes)} (saves ${percent(a.historyStateBytes - a.deflatedHistoryStateBytes, a.historyStateBytes)})`),
    pair(`cold load + first client sync, with / without history (median of ${cold.on.length})`, median(cold.on), median(cold.off), 'ms', `${runsOf(cold.on, 'ms')} / ${runsOf(cold.off, 'ms').slice(2)}`),
    figure(`list versions: fresh server (median of ${api.length}) / warm (median of ${WARM_REPEATS})`, apiMedian((r) => r.listColdMs), 'ms', `${formatValue(apiMedian((r) => r.listColdMs), 'ms')} / ${formatValue(apiMedian((r) => r.listWarmMs), 'ms')}${apiRuns((r) => r.listColdMs)}`),
    figure(
      'open the newest version (?format=yjs): first request of a fresh server / warm',
      apiMedian((r) => r.newestColdMs),
      'ms',
      `${formatValue(apiMedian((r) => r.newestColdMs), 'ms')} / ${formatValue(apiMedian((r) => r.newestMs), 'ms')} (${formatBytes(api[0]?.newestBytes ?? 0)})`,
    ),
    figure('open the oldest version (?format=yjs), warm', apiMedian((r) => r.oldestMs), 'ms', `${formatValue(apiMedian((r) => r.oldestMs), 'ms')} (${formatBytes(api[0]?.oldestBytes ?? 0)})`),
    pair(`editing latency p99 (writer sent → watcher received), with / without history`, lOn.p99, lOff.p99, 'ms'),
    figure('editing latency p50 / max, with history; without', lOn.p50, 'ms', `${formatValue(lOn.p50, 'ms')} / ${formatValue(lOn.max, 'ms')}; ${formatValue(lOff.p50, 'ms')} / ${formatValue(lOff.max, 'ms')} (${lOn.n.toLocaleString('en')} and ${lOff.n.toLocaleString('en')} inserting edits)`),
    pair(`replay of ${paper.updates.length.toLocaleString('en')} edits at ${EDITS_PER_SECOND.toLocaleString('en')}/s, with / without history`, on.build.buildMs, off.build.buildMs, 'ms'),
    figure('Yjs state of the document (encodeStateAsUpdate), for reference', paper.stateBytes, 'bytes'),
  ];
}

export const history: Scenario = {
  name: 'history',
  description: `automerge-paper replayed at ${EDITS_PER_SECOND.toLocaleString('en')} edits/s with a version every ${RECORDER.everyChanges.toLocaleString('en')} and with history off: storage, cold load, listing and opening versions, editing p99`,
  async run(options): Promise<ScenarioResult> {
    const loadBefore = loadAverage();
    const paper = paperDocument();
    const dirs = new TempDirs();
    try {
      // Both at once: on a shared machine, whatever else runs weighs on both alike.
      const [off, on] = await Promise.all([buildMode(false, paper, dirs, options.log), buildMode(true, paper, dirs, options.log)]);
      const analysis = analyseHistory(on.rows.historyUpdates);
      const failures: string[] = [];
      if (off.rows.historyBytes !== 0) failures.push('history: the server with history off stored a history document');
      if (analysis.versions < 200) failures.push(`history: only ${analysis.versions} versions recorded (expected about 260)`);
      const cold = { on: [] as number[], off: [] as number[] };
      for (let i = 0; i < options.runs; i++) {
        // Alternated, so drift in the machine's load falls on both.
        cold.off.push(await coldLoad(off, paper, 2 + i));
        cold.on.push(await coldLoad(on, paper, 2 + i));
      }
      options.log(`  cold loads: with ${cold.on.map((v) => formatValue(v, 'ms')).join(', ')}; without ${cold.off.map((v) => formatValue(v, 'ms')).join(', ')}`);
      const api: ApiRun[] = [];
      for (let i = 0; i < options.runs; i++) api.push(await apiRun(on, paper));
      return {
        figures: results(on, off, analysis, cold, api, paper),
        notes: [
          `Two Concord relays (startServer, relay and API, no web app; run with tsx, the same source either way) in child processes, SQLite in scratch directories: one records versions with the HistoryRecorder (everyChanges ${RECORDER.everyChanges}, swept every ${RECORDER.sweepMs} ms, quiet ${RECORDER.quietMs} ms), one has \`history: false\`. Each replays the ${paper.updates.length.toLocaleString('en')} updates at a steady ${EDITS_PER_SECOND.toLocaleString('en')}/s on one connection (the per-connection message cap lifted) while a second client watches; latency is per inserting edit (an edit that only deletes advances no Yjs clock to match it by). The two replays run at the same time (one each), so the machine's load weighs on both alike; cold loads alternate between the two data directories, ${options.runs} each.`,
          '"Measured only" rows compress the recorded versions in the bench (server/ and lib/history/ unchanged); "≈ stored in all" subtracts the saving from the rows stored with history. The "whole delete sets" reference rebuilds each version\'s delete set along its chain.',
          `Load average (1, 5, 15 min) before: ${loadBefore}; after: ${loadAverage()} (${os.cpus().length} cores).`,
        ],
        failures,
      };
    } finally {
      dirs.removeAll();
    }
  },
};

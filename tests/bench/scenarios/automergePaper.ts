/**
 * The automerge-paper document (259,778 single-character edits) built through each server, one
 * update message per edit; then new-client sync while it is loaded, cold load from storage after
 * a restart (servers that persist), browser time-to-editable (servers with an editor), and for
 * Concord what it stored.
 */
import { CONCORD_PROTOCOL_PARAM, CONCORD_PROTOCOL_VERSION, decodeStoredAck } from '../../../lib/protocol/ackExtension';
import * as Y from 'yjs';
import { openRawSocket } from '../../support/rawSocket';
import { TempDirs } from '../../support/tempDirs';
import { timeToEditable } from '../documents/browserEditable';
import { buildThrough } from '../documents/buildThrough';
import { storedSize, type StoredSize } from '../documents/concordStorage';
import { paperDocument, paperText, type PaperDocument } from '../documents/paperDocument';
import { timeFullSync } from '../documents/receivedDocument';
import { formatBytes, formatValue, ms } from '../format';
import { peakRssBytes, rssBytes } from '../load/processStats';
import type { BenchDocument } from '../load/framing';
import { PEERS } from '../peers';
import { isConcord } from '../peers/concord';
import type { Peer, PeerName, PeerServer } from '../peers/PeerServer';
import type { Cell, ComparisonRow, Figure, Scenario, ScenarioResult, Unit } from '../scenario';
import { median } from '../stats';
import { untilIdle } from '../waiting';

const WARM_SYNCS = 5;

interface PaperResult {
  buildMs: number;
  rssAfterBuild: number;
  peakRss: number;
  /** New client, document loaded; null when the server holds no document (raw relay). */
  warmSyncMs: number[] | null;
  /** First client after a restart; null when the server does not persist. */
  coldLoadMs: number[] | null;
  /** Browser time-to-editable; null when the server serves no editor. */
  editableMs: number[] | null;
  concord?: { storedMs: number; storage: StoredSize; rssIdle: number };
}

function checkText(doc: Y.Doc, paper: PaperDocument, what: string): void {
  const text = paperText(doc);
  if (text !== paper.endText) throw new Error(`${what}: the document's text differs from the trace's end (${text?.length ?? 'no'} characters, expected ${paper.endText.length})`);
}

/** Concord only: resolves with performance.now() once the relay says the paper's last edit is stored. */
function concordStored(server: PeerServer, doc: BenchDocument, paper: PaperDocument): { stored: Promise<number>; close(): void } {
  const socket = openRawSocket(`ws://127.0.0.1:${new URL(server.url).port}/ws/${doc.name}?token=${doc.token}&${CONCORD_PROTOCOL_PARAM}=${CONCORD_PROTOCOL_VERSION}`);
  const stored = socket
    .waitFor((frame) => {
      const vector = decodeStoredAck(frame);
      return vector !== null && (Y.decodeStateVector(vector).get(paper.clientId) ?? 0) >= paper.finalClock;
    })
    .then((outcome) => {
      if (outcome !== 'matched') throw new Error('the stored-ack socket closed before the paper was stored');
      return performance.now();
    });
  return { stored, close: () => socket.ws.terminate() };
}

async function measure(peer: Peer, paper: PaperDocument, runs: number, log: (line: string) => void): Promise<PaperResult> {
  const dirs = new TempDirs();
  const dataDir = peer.persists ? dirs.make(`bench-paper-${peer.name}-`) : undefined;
  const env = peer.bulkImportEnv ?? {};
  const servers: PeerServer[] = [];
  const start = async () => {
    const server = await peer.start({ dataDir, env });
    servers.push(server);
    return server;
  };
  try {
    const server = await start();
    const rssIdle = rssBytes(server.pid);
    const doc = server.newDocument();
    const storedWatch = isConcord(peer.name) ? concordStored(server, doc, paper) : null;
    const built = await buildThrough(server, paper, doc);
    const buildEnded = performance.now();
    log(`  ${peer.name}: built in ${ms(built.buildMs)}`);
    checkText(built.watcher.replica(), paper, `${peer.name}, the client that watched the build`);
    const storedMs = storedWatch ? (await storedWatch.stored) - (buildEnded - built.buildMs) : Number.NaN;
    storedWatch?.close();
    const rssAfterBuild = rssBytes(server.pid);

    let warmSyncMs: number[] | null = null;
    if (server.framing.handshake) {
      warmSyncMs = [];
      for (let i = 0; i < WARM_SYNCS; i++) {
        const sync = await timeFullSync(server, doc, paper, 2 + i);
        if (i === 0) checkText(sync.doc, paper, `${peer.name}, a new client`);
        warmSyncMs.push(sync.ms);
      }
    }
    const editorUrl = server.editorUrl?.(doc);
    const editableMs = editorUrl ? await timeToEditable(editorUrl, paper.endText, runs) : null;
    const peakRss = peakRssBytes(server.pid);
    built.watcher.close();
    built.writer.close();

    let coldLoadMs: number[] | null = null;
    let storage: StoredSize | null = null;
    if (peer.persists) {
      // The y-websocket server does not handle SIGTERM: let its LevelDB writes finish first
      // (what it stored is checked by loading it back).
      if (!peer.storesOnSigterm) await untilIdle(server.pid);
      await server.stop('SIGTERM');
      if (isConcord(peer.name)) storage = await storedSize(dataDir!, doc.name);
      coldLoadMs = [];
      for (let i = 0; i < runs; i++) {
        const cold = await start();
        const sync = await timeFullSync(cold, doc, paper, 0);
        checkText(sync.doc, paper, `${peer.name}, the first client after a restart`);
        coldLoadMs.push(sync.ms);
        if (!peer.storesOnSigterm) await untilIdle(cold.pid);
        await cold.stop('SIGTERM');
      }
    }
    return {
      buildMs: built.buildMs,
      rssAfterBuild,
      peakRss,
      warmSyncMs,
      coldLoadMs,
      editableMs,
      ...(storage ? { concord: { storedMs, storage, rssIdle } } : {}),
    };
  } finally {
    for (const s of servers) await s.stop();
    dirs.removeAll();
  }
}

/** A cell from one server's values (the median), or "n/a" and why. Several values are listed, since a first cold load can differ a lot from later ones. */
function cell(values: number[] | null, note: string, unit?: Unit): Cell {
  if (!values) return { median: null, runs: [], note };
  const listed = unit && values.length > 1 ? { note: `runs: ${values.map((v) => formatValue(v, unit)).join(', ')}` } : {};
  return { median: median(values), runs: values, ...listed };
}

function comparisonRows(results: Map<PeerName, PaperResult | Error>, paper: PaperDocument, runs: number): ComparisonRow[] {
  const make = (measure: string, unit: Unit, better: ComparisonRow['better'], pick: (r: PaperResult) => Cell): ComparisonRow => ({
    measure,
    unit,
    better,
    cells: Object.fromEntries([...results].map(([name, r]) => [name, r instanceof Error ? { median: null, runs: [], note: 'failed' } : pick(r)])),
  });
  return [
    make(`build: ${paper.updates.length.toLocaleString('en')} updates relayed to a watching client`, 'ms', 'lower', (r) => cell([r.buildMs], '')),
    make('relay throughput while building', 'per_s', 'higher', (r) => cell([paper.updates.length / (r.buildMs / 1000)], '')),
    make('server RSS right after the build', 'bytes', 'lower', (r) => cell([r.rssAfterBuild], '')),
    make(`new-client sync, document loaded (median of ${WARM_SYNCS})`, 'ms', 'lower', (r) => cell(r.warmSyncMs, 'holds no document')),
    make(`cold load + first client sync after a restart (median of ${runs})`, 'ms', 'lower', (r) => cell(r.coldLoadMs, 'no persistence', 'ms')),
    make(`browser time-to-editable, fresh context (median of ${runs})`, 'ms', 'lower', (r) => cell(r.editableMs, 'no editor', 'ms')),
  ];
}

function concordFigures(r: PaperResult, paper: PaperDocument): Figure[] {
  const c = r.concord!;
  const figure = (name: string, value: number, unit: Unit, display = formatValue(value, unit)): Figure => ({ name, value, unit, display });
  return [
    figure('build until the last edit is stored (stored-ack)', c.storedMs, 'ms', ms(c.storedMs)),
    figure('stored size (SQLite files incl. WAL and free pages)', c.storage.fileBytes, 'bytes'),
    figure('stored document data (snapshot + log)', c.storage.documentBytes, 'bytes', `${formatBytes(c.storage.documentBytes)} in ${c.storage.entries} ${c.storage.entries === 1 ? 'entry' : 'entries'}`),
    figure('Yjs state of the document (encodeStateAsUpdate), for reference', paper.stateBytes, 'bytes'),
    figure('server RSS: idle (fresh process) / after the build / peak', r.peakRss, 'bytes', `${formatBytes(c.rssIdle)} / ${formatBytes(r.rssAfterBuild)} / ${formatBytes(r.peakRss)}`),
    ...(r.editableMs ? [figure('browser time-to-editable, each run', median(r.editableMs), 'ms', r.editableMs.map((v) => ms(v)).join(', '))] : []),
  ];
}

export const automergePaper: Scenario = {
  name: 'automerge-paper',
  description: 'automerge-paper (259,778 edits) built through each server; new-client sync, cold load, browser time-to-editable',
  async run(options): Promise<ScenarioResult> {
    const paper = paperDocument();
    const results = new Map<PeerName, PaperResult | Error>();
    const failures: string[] = [];
    for (const name of options.servers) {
      try {
        results.set(name, await measure(PEERS[name], paper, options.runs, options.log));
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        results.set(name, error);
        failures.push(`automerge-paper: ${name}: ${error.message.split('\n')[0]}`);
      }
    }
    const concord = results.get('concord');
    return {
      rows: comparisonRows(results, paper, options.runs),
      figures: concord && !(concord instanceof Error) ? concordFigures(concord, paper) : undefined,
      notes: [
        'One build per server (one connection sends every edit at once, so Concord runs with MAX_MESSAGES_PER_SECOND lifted). The y-websocket server persists to LevelDB here (YPERSISTENCE), so it has a cold load; Hocuspocus runs bare (no persistence); the raw relay holds no document.',
        'The body is one paragraph whose text takes every edit; the browser figure is the editor\'s `concord:editable` performance mark from navigation start.',
        'Hocuspocus\'s build time is bimodal here (about 11 s or 55 s from one run to the next, its own process busy throughout): it queues a connection\'s messages in an array it shift()s one at a time, and 259,780 arrive at once.',
      ],
      failures,
    };
  },
};

/**
 * The automerge-paper document (259,778 single-character edits) built through the relay, one
 * update per edit, then: cold load from storage, new-client sync, server memory, stored size.
 */
import fs from 'node:fs';
import path from 'node:path';
import { mintDocument } from '../../../lib/auth/capabilities';
import { encodeUpdateMessage } from '../../../lib/protocol/encode';
import { MessageType } from '../../../lib/protocol/messageTypes';
import * as Y from 'yjs';
import { CONCORD_PROTOCOL_PARAM, CONCORD_PROTOCOL_VERSION, decodeStoredAck } from '../../../lib/protocol/ackExtension';
import { SQLITE_FILE_NAME, SqliteStore } from '../../../server/storage/SqliteStore';
import { openRawSocket } from '../../support/rawSocket';
import { startRelayProcess, type RelayProcess } from '../../support/relayProcess';
import { coversDoc } from '../../support/storedAck';
import { TempDirs } from '../../support/tempDirs';
import { loadTrace, sequentialUpdates } from '../../support/traces';
import { formatBytes, ms, rssOf, timeFullSync } from '../measure';
import type { Figure, Scenario } from '../scenario';

const RELAY_ENV = { LOG_LEVEL: 'info', MAX_MESSAGES_PER_SECOND: '100000000' };

async function stop(relay: RelayProcess): Promise<void> {
  const { code, signal } = await relay.stop('SIGTERM');
  if (code !== 0) throw new Error(`relay exited with code ${code}, signal ${signal} on SIGTERM`);
}

export const automergePaper: Scenario = {
  name: 'automerge-paper',
  description: 'automerge-paper trace (259,778 edits) built through a relay process; cold load, warm sync, memory, stored size',
  async run() {
    const dataDirs = new TempDirs();
    const started: RelayProcess[] = [];
    try {
      return await measure(dataDirs.make('concord-bench-'), async (dataDir) => {
        const relay = await startRelayProcess(dataDir, RELAY_ENV);
        started.push(relay);
        return relay;
      });
    } finally {
      // On success both relays have already stopped cleanly; on failure none may be left behind.
      for (const relay of started) await relay.stop('SIGKILL');
      dataDirs.removeAll();
    }
  },
};

async function measure(dataDir: string, startRelay: (dataDir: string) => Promise<RelayProcess>): Promise<Figure[]> {
  const trace = loadTrace('automerge-paper');
  const updates = sequentialUpdates(trace, 'trace');
  const caps = mintDocument();
  // What the server must end up storing, to recognise the stored-ack that covers it.
  const reference = new Y.Doc();
  reference.transact(() => updates.forEach((u) => Y.applyUpdate(reference, u)));

  // 1. Build the document through the server: every edit is one update message. The writer
  //    negotiates stored-acks, so we also see when the last edit is durably stored.
  const relay = await startRelay(dataDir);
  const writer = openRawSocket(`${relay.wsUrl}/${caps.docId}?token=${caps.edit}&${CONCORD_PROTOCOL_PARAM}=${CONCORD_PROTOCOL_VERSION}`);
  await writer.opened;
  const stored = writer.waitFor((f) => {
    const storedVector = decodeStoredAck(f);
    return storedVector !== null && coversDoc(storedVector, reference);
  });
  const buildStarted = performance.now();
  for (const update of updates) writer.send(encodeUpdateMessage(update));
  // The relay handles a connection's frames in order: the answer to this query comes last.
  const done = writer.waitFor((f) => f[0] === MessageType.awareness);
  writer.send(new Uint8Array([MessageType.queryAwareness]));
  if ((await done) !== 'matched') throw new Error('writer connection closed while building');
  const buildMs = performance.now() - buildStarted;
  if ((await stored) !== 'matched') throw new Error('writer connection closed before the edits were stored');
  const storedMs = performance.now() - buildStarted;
  const rssAfterBuild = rssOf(relay.child.pid!);
  writer.ws.close();
  await stop(relay);
  const fileBytes = fs
    .readdirSync(dataDir)
    .filter((f) => f.startsWith(SQLITE_FILE_NAME))
    .reduce((sum, f) => sum + fs.statSync(path.join(dataDir, f)).size, 0);
  // The document's own rows (snapshot + log after it), through the store's public interface:
  // the file size above also counts pages freed by compaction, which SQLite reuses but keeps.
  const store = new SqliteStore(dataDir);
  const { bytes: documentBytes, updates: storedEntries } = await store.load(caps.docId);
  await store.close();
  const yjsStateBytes = Y.encodeStateAsUpdate(reference).byteLength;

  // 2. Cold load: a fresh server process, the first client loads the document from storage.
  const cold = await startRelay(dataDir);
  const rssIdle = rssOf(cold.child.pid!);
  const coldSync = await timeFullSync(cold.wsUrl, caps.docId, caps.view);
  if (coldSync.doc.getText('trace').toString() !== trace.endContent) throw new Error('cold-loaded document differs from the trace');
  // 3. Warm: the document is in memory; a new client syncs it.
  const warmRuns: number[] = [];
  for (let i = 0; i < 5; i++) warmRuns.push((await timeFullSync(cold.wsUrl, caps.docId, caps.view)).ms);
  warmRuns.sort((a, b) => a - b);
  const warmMs = warmRuns[2]!;
  const rssLoaded = rssOf(cold.child.pid!);
  await stop(cold);

  return [
    { name: 'edits sent (one update each)', value: updates.length, unit: 'count', display: updates.length.toLocaleString('en') },
    { name: 'build through the relay', value: buildMs, unit: 'ms', display: ms(buildMs) },
    { name: 'relay throughput while building', value: updates.length / (buildMs / 1000), unit: 'per_s', display: `${Math.round(updates.length / (buildMs / 1000)).toLocaleString('en')} updates/s` },
    { name: 'build until the last edit is stored (stored-ack)', value: storedMs, unit: 'ms', display: ms(storedMs) },
    { name: 'server RSS after building', value: rssAfterBuild, unit: 'bytes', display: formatBytes(rssAfterBuild) },
    { name: 'stored size (SQLite files incl. WAL and free pages)', value: fileBytes, unit: 'bytes', display: formatBytes(fileBytes) },
    { name: 'stored document data (snapshot + log)', value: documentBytes, unit: 'bytes', display: `${formatBytes(documentBytes)} in ${storedEntries.length} ${storedEntries.length === 1 ? 'entry' : 'entries'}` },
    { name: 'Yjs state of the document (encodeStateAsUpdate), for reference', value: yjsStateBytes, unit: 'bytes', display: formatBytes(yjsStateBytes) },
    { name: 'cold load + first client sync', value: coldSync.ms, unit: 'ms', display: ms(coldSync.ms) },
    { name: 'new client sync, document loaded (median of 5)', value: warmMs, unit: 'ms', display: ms(warmMs) },
    { name: 'server RSS idle (fresh process)', value: rssIdle, unit: 'bytes', display: formatBytes(rssIdle) },
    { name: 'server RSS with the document loaded', value: rssLoaded, unit: 'bytes', display: formatBytes(rssLoaded) },
  ];
}

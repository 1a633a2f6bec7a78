/**
 * The automerge-paper document (259,778 single-character edits) built through the relay, one
 * update per edit, then: cold load from storage, new-client sync, server memory, stored size.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintDocument } from '../../../lib/auth/capabilities';
import { encodeUpdateMessage } from '../../../lib/protocol/encode';
import { MessageType } from '../../../lib/protocol/messageTypes';
import { SQLITE_FILE_NAME } from '../../../server/storage/SqliteStore';
import { openRawSocket } from '../../support/rawSocket';
import { startRelayProcess, type RelayProcess } from '../../support/relayProcess';
import { loadTrace, sequentialUpdates } from '../../support/traces';
import { mib, ms, rssOf, timeFullSync } from '../measure';

export interface Figure {
  name: string;
  value: number;
  unit: 'ms' | 'bytes' | 'count' | 'per_s';
  display: string;
}

const RELAY_ENV = { LOG_LEVEL: 'info', MAX_MESSAGES_PER_SECOND: '100000000' };

async function stop(relay: RelayProcess): Promise<void> {
  relay.child.kill('SIGTERM');
  const { code } = await relay.exited;
  if (code !== 0) throw new Error(`relay exited with ${code} on SIGTERM`);
}

export async function automergePaper(): Promise<Figure[]> {
  const trace = loadTrace('automerge-paper');
  const updates = sequentialUpdates(trace, 'trace');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-bench-'));
  const caps = mintDocument();

  // 1. Build the document through the server: every edit is one update message.
  const relay = await startRelayProcess(dataDir, RELAY_ENV);
  const writer = openRawSocket(`${relay.wsUrl}/${caps.docId}?token=${caps.edit}`);
  await writer.opened;
  const buildStarted = performance.now();
  for (const update of updates) writer.send(encodeUpdateMessage(update));
  // The relay handles a connection's frames in order: the answer to this query comes last.
  const done = writer.waitFor((f) => f[0] === MessageType.awareness);
  writer.send(new Uint8Array([MessageType.queryAwareness]));
  if ((await done) !== 'matched') throw new Error('writer connection closed while building');
  const buildMs = performance.now() - buildStarted;
  const rssAfterBuild = rssOf(relay.child.pid!);
  writer.ws.close();
  await stop(relay);
  const storedBytes = fs
    .readdirSync(dataDir)
    .filter((f) => f.startsWith(SQLITE_FILE_NAME))
    .reduce((sum, f) => sum + fs.statSync(path.join(dataDir, f)).size, 0);

  // 2. Cold load: a fresh server process, the first client loads the document from storage.
  const cold = await startRelayProcess(dataDir, RELAY_ENV);
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
    { name: 'server RSS after building', value: rssAfterBuild, unit: 'bytes', display: mib(rssAfterBuild) },
    { name: 'stored size (SQLite files incl. WAL)', value: storedBytes, unit: 'bytes', display: mib(storedBytes) },
    { name: 'cold load + first client sync', value: coldSync.ms, unit: 'ms', display: ms(coldSync.ms) },
    { name: 'new client sync, document loaded (median of 5)', value: warmMs, unit: 'ms', display: ms(warmMs) },
    { name: 'server RSS idle (fresh process)', value: rssIdle, unit: 'bytes', display: mib(rssIdle) },
    { name: 'server RSS with the document loaded', value: rssLoaded, unit: 'bytes', display: mib(rssLoaded) },
  ];
}

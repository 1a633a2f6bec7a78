/** Small measuring helpers shared by benchmark scenarios. */
import fs from 'node:fs';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { MessageType } from '../../lib/protocol/messageTypes';
import { openRawSocket } from '../support/rawSocket';

/** Resident set size of a process in bytes, from /proc. */
export function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/** Bytes for people: KiB below 1 MiB, else MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}

function isSyncStep(frame: Uint8Array, step: number): boolean {
  const d = decoding.createDecoder(frame);
  return decoding.readVarUint(d) === MessageType.sync && decoding.readVarUint(d) === step;
}

/**
 * Time for a brand-new client (empty state) to connect and receive the whole document, and the
 * document it received.
 */
export async function timeFullSync(wsUrl: string, docId: string, token: string): Promise<{ ms: number; doc: Y.Doc }> {
  const started = performance.now();
  const raw = openRawSocket(`${wsUrl}/${docId}?token=${token}`);
  await raw.opened;
  const step2 = raw.waitFor((f) => isSyncStep(f, syncProtocol.messageYjsSyncStep2));
  const step1 = encoding.createEncoder();
  encoding.writeVarUint(step1, MessageType.sync);
  syncProtocol.writeSyncStep1(step1, new Y.Doc());
  raw.send(encoding.toUint8Array(step1));
  if ((await step2) !== 'matched') throw new Error('connection closed before the document arrived');
  const elapsed = performance.now() - started;
  const doc = new Y.Doc();
  for (const frame of raw.received) {
    const d = decoding.createDecoder(frame);
    if (decoding.readVarUint(d) !== MessageType.sync) continue;
    syncProtocol.readSyncMessage(d, encoding.createEncoder(), doc, 'bench');
  }
  raw.ws.close();
  return { ms: elapsed, doc };
}

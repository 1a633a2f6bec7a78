/**
 * Builds the paper through a server the way an editor would send it: one update message per
 * edit, from one writer, while another client watches. Built = the watcher has the last edit.
 */
import { encodeUpdateMessage } from '../../../lib/protocol/encode';
import type { BenchDocument } from '../load/framing';
import { FramedSocket } from '../load/FramedSocket';
import type { PeerServer } from '../peers/PeerServer';
import { untilDoneOrStalled } from '../waiting';
import type { PaperDocument } from './paperDocument';
import { ReceivedDocument } from './receivedDocument';

export interface Built {
  /** First update sent → the watcher received the last one. */
  buildMs: number;
  /** Still connected: keeps the document loaded on servers that unload idle documents. */
  watcher: ReceivedDocument;
  writer: FramedSocket;
}

/** Builds into `doc` (a new document of `server`). */
export async function buildThrough(server: PeerServer, paper: PaperDocument, doc: BenchDocument): Promise<Built> {
  const watcher = new ReceivedDocument(server, doc, paper, 0);
  const writer = new FramedSocket({ framing: server.framing, doc, headers: server.clientHeaders(1) });
  try {
    await Promise.all([watcher.socket.ready, writer.ready]);
    const started = performance.now();
    for (const update of paper.updates) writer.send(encodeUpdateMessage(update));
    // Hocuspocus has been seen to stop relaying half-way (its process idle): give up on a build
    // that stands still for a minute rather than waiting out the whole limit.
    const doneAt = await untilDoneOrStalled(watcher.complete, `${server.name} to relay the whole paper`, {
      pid: server.pid,
      progress: () => watcher.receivedCount,
      stallMs: 60_000,
      maxMs: 600_000,
    });
    return { buildMs: doneAt - started, watcher, writer };
  } catch (err) {
    watcher.close();
    writer.close();
    throw err;
  }
}

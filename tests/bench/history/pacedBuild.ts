/**
 * Replays the paper at a steady rate (a busy document, not a bulk import) through one writer
 * connection while another client watches, and measures every edit's latency: sent by the
 * writer → received by the watcher. Edits are told apart by the writer's Yjs clock, read from
 * each received update (the relay may merge several into one frame); an edit that only deletes
 * advances no clock, so the latencies are those of the edits that insert (most of the trace).
 */
import * as Y from 'yjs';
import { encodeUpdateMessage } from '../../../lib/protocol/encode';
import type { PaperDocument } from '../documents/paperDocument';
import type { BenchDocument } from '../load/framing';
import { FramedSocket } from '../load/FramedSocket';
import type { PeerServer } from '../peers/PeerServer';
import { Samples } from '../stats';
import { untilDoneOrStalled } from '../waiting';

const TICK_MS = 5;

export interface PacedBuild {
  /** First edit sent → the watcher has the last. */
  buildMs: number;
  /** One latency (ms) per inserting edit. */
  latencies: Samples;
}

/** The writer's clock after each update (equal to the one before for an update that only deletes). */
function clockEnds(paper: PaperDocument): Uint32Array {
  const ends = new Uint32Array(paper.updates.length);
  paper.updates.forEach((u, i) => (ends[i] = Y.parseUpdateMeta(u).to.get(paper.clientId) ?? 0));
  return ends;
}

export async function pacedBuild(server: PeerServer, doc: BenchDocument, paper: PaperDocument, perSecond: number): Promise<PacedBuild> {
  const ends = clockEnds(paper);
  const sentAt = new Float64Array(paper.updates.length);
  let sent = 0;
  /** Updates below this index have been received (or passed, for those that only delete). */
  let passed = 0;
  const latencies = new Samples();
  let resolveDone: (at: number) => void = () => undefined;
  let failed: (err: Error) => void = () => undefined;
  const done = new Promise<number>((resolve, reject) => {
    resolveDone = resolve;
    failed = reject;
  });
  const watcher = new FramedSocket({
    framing: server.framing,
    doc,
    headers: server.clientHeaders(0),
    onUpdate(update, at) {
      const end = Y.parseUpdateMeta(update).to.get(paper.clientId) ?? 0;
      for (; passed < sent && ends[passed]! <= end; passed++) {
        if (passed === 0 || ends[passed]! > ends[passed - 1]!) latencies.push(at - sentAt[passed]!);
      }
      if (end >= paper.finalClock) resolveDone(at);
    },
  });
  const writer = new FramedSocket({ framing: server.framing, doc, headers: server.clientHeaders(1) });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.all([watcher.ready, writer.ready]);
    const started = performance.now();
    // Each tick sends what the rate allows by now: a late tick catches up, so the rate holds.
    timer = setInterval(() => {
      if (writer.closedAfterReady !== null || watcher.closedAfterReady !== null) {
        clearInterval(timer);
        failed(new Error(`the server closed the ${writer.closedAfterReady !== null ? `writer (code ${writer.closedAfterReady})` : `watcher (code ${watcher.closedAfterReady})`} after ${sent} edits`));
        return;
      }
      const due = Math.min(paper.updates.length, Math.floor(((performance.now() - started) * perSecond) / 1000));
      for (; sent < due; sent++) {
        sentAt[sent] = performance.now();
        writer.send(encodeUpdateMessage(paper.updates[sent]!));
      }
      if (sent === paper.updates.length) clearInterval(timer);
    }, TICK_MS);
    const doneAt = await untilDoneOrStalled(done, `${server.name} to relay the whole paper`, {
      pid: server.pid,
      progress: () => passed,
      stallMs: 60_000,
      maxMs: 20 * 60_000,
    });
    return { buildMs: doneAt - started, latencies };
  } finally {
    clearInterval(timer);
    watcher.close();
    writer.close();
  }
}

/**
 * A client that follows one document's arrival: it records the updates it receives and notes the
 * moment the last operation of the paper arrives (cheaply, from each update's clock range, so the
 * measured time is the server's, not the time to apply 260,000 updates).
 */
import * as Y from 'yjs';
import type { BenchDocument } from '../load/framing';
import { FramedSocket } from '../load/FramedSocket';
import type { PeerServer } from '../peers/PeerServer';
import type { PaperDocument } from './paperDocument';
import { withTimeout } from '../waiting';

export class ReceivedDocument {
  readonly socket: FramedSocket;
  /** Resolves with performance.now() when the update carrying the paper's last operation arrived. */
  readonly complete: Promise<number>;
  private readonly updates: Uint8Array[] = [];

  /** Updates received so far. */
  get receivedCount(): number {
    return this.updates.length;
  }

  constructor(server: PeerServer, doc: BenchDocument, paper: PaperDocument, clientIndex: number) {
    let resolve: (at: number) => void = () => undefined;
    this.complete = new Promise((r) => (resolve = r));
    this.socket = new FramedSocket({
      framing: server.framing,
      doc,
      headers: server.clientHeaders(clientIndex),
      onUpdate: (update, at) => {
        this.updates.push(update);
        if ((Y.parseUpdateMeta(update).to.get(paper.clientId) ?? 0) >= paper.finalClock) resolve(at);
      },
    });
  }

  /** The replica from everything received (built on demand: it costs a few hundred ms). */
  replica(): Y.Doc {
    const doc = new Y.Doc();
    doc.transact(() => this.updates.forEach((u) => Y.applyUpdate(doc, u)));
    return doc;
  }

  close(): void {
    this.socket.close();
  }
}

/** A brand-new client connects and receives the whole paper: the time until it has all of it, and its replica. */
export async function timeFullSync(server: PeerServer, doc: BenchDocument, paper: PaperDocument, clientIndex: number): Promise<{ ms: number; doc: Y.Doc }> {
  const started = performance.now();
  const client = new ReceivedDocument(server, doc, paper, clientIndex);
  try {
    await client.socket.ready;
    const at = await withTimeout(client.complete, 120_000, 'the whole document to arrive');
    return { ms: at - started, doc: client.replica() };
  } finally {
    client.close();
  }
}

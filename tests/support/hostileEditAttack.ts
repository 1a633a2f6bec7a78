/**
 * One round of the hostile-edit fuzz (issue #15), shared by tests/integration/hostile-edits.test.ts
 * and the `hostile-edits` bench scenario: a relay in this process on a fresh SQLite directory,
 * two honest editors typing paragraphs (stock providers with the editor's client-id claims),
 * attacker connections with the edit link sending generated frames (hostileEdits.ts), then the
 * replica invariant (replicaInvariant.ts).
 */
import type { DestinationStream } from 'pino';
import * as Y from 'yjs';
import { startServer, type RunningServer } from '../../server/startServer';
import { createLogger } from '../../server/log';
import { mintDocument } from '../../lib/auth/capabilities';
import { BODY_FRAGMENT } from '../../lib/documents/dataModel';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { MessageType } from '../../lib/protocol/messageTypes';
import { seededRandom } from './fuzzFrames';
import { HostileEdits, type HostileEditKind } from './hostileEdits';
import { connectEditorClient } from './nodeClient';
import { openRawSocket, type RawSocket } from './rawSocket';
import { checkReplicaInvariant, type HonestReplica, type InvariantReport } from './replicaInvariant';

export interface AttackOptions {
  dataDir: string;
  frames: number;
  seed: number;
  /** Attacker connections sending at once. */
  workers?: number;
  /** How long the checker waits for the honest clients to settle. */
  settleTimeoutMs?: number;
}

export interface AttackResult {
  framesSent: number;
  /** Frames after which the relay closed the attacker's connection. */
  framesRefused: number;
  /** Frames the relay handled with the connection left open (applied, or held as pending). */
  updatesAccepted: number;
  /** The relay's own count of refused frames (metrics.rejectedFrames). */
  rejectedFrames: number;
  /** Times the relay logged an update failing half-way through integration. */
  halfWayFailures: number;
  /** Frames sent, by kind (edit, mutated edit, mutated state). */
  byKind: Record<HostileEditKind, number>;
  invariant: InvariantReport;
}

const HALF_WAY = 'failed half-way';
const TYPING_INTERVAL_MS = 15;

/** A pino destination that counts the relay's half-way failures and drops everything else. */
function failureCounter(): { stream: DestinationStream; count: () => number } {
  let failures = 0;
  return {
    stream: {
      write(line: string) {
        if (line.includes(HALF_WAY)) failures++;
      },
    },
    count: () => failures,
  };
}

function startRelay(dataDir: string, stream: DestinationStream): Promise<RunningServer> {
  return startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    next: false,
    logger: createLogger('error', 'concord', stream),
    // Lifted so that every frame reaches the room instead of a connection or rate cap.
    relay: { maxConnectionsPerIp: 1_000_000, maxMessagesPerSecond: 1_000_000 },
  });
}

/** Types words into its own paragraph, starting a new one now and then, until `stop()`. */
function typist(name: string, doc: Y.Doc, random: () => number): { stop: () => Promise<void> } {
  let typing = true;
  let current: Y.XmlText | null = null;
  let words = 0;
  const done = (async () => {
    while (typing) {
      const body = doc.getXmlFragment(BODY_FRAGMENT);
      // The attacker deletes other people's content, this paragraph included: start another.
      if (!current || current._item?.deleted || random() < 0.15) {
        const paragraph = new Y.XmlElement('paragraph');
        current = new Y.XmlText();
        paragraph.insert(0, [current]);
        body.insert(Math.floor(random() * (body.length + 1)), [paragraph]);
      }
      current.insert(current.length, `${name}w${words++} `);
      await new Promise((resolve) => setTimeout(resolve, TYPING_INTERVAL_MS));
    }
  })();
  return {
    stop: async () => {
      typing = false;
      await done;
    },
  };
}

export async function runHostileEditAttack(options: AttackOptions): Promise<AttackResult> {
  const failures = failureCounter();
  const server = await startRelay(options.dataDir, failures.stream);
  const caps = mintDocument();
  // Editors as Concord's are (extension v3): they claim their client ids, which the attacker sees.
  const honest: HonestReplica[] = ['honest A', 'honest B'].map((name) => ({ name, client: connectEditorClient(server.wsUrl, caps.docId, caps.edit) }));
  let checked = false;
  try {
    await Promise.all(honest.map((h) => h.client.synced));
    const random = seededRandom(options.seed ^ 0x5eed);
    const typists = honest.map((h, i) => typist(i === 0 ? 'a' : 'b', h.client.doc, random));

    const edits = new HostileEdits(options.seed);
    const source = honest[0]!.client.doc;
    const byKind: Record<HostileEditKind, number> = { edit: 0, 'mutated edit': 0, 'mutated state': 0 };
    let sent = 0;
    let refused = 0;
    const open = async (): Promise<RawSocket> => {
      const raw = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${caps.edit}`);
      await raw.opened;
      return raw;
    };
    // Each frame is followed by a presence query: its answer says the frame was handled.
    const worker = async () => {
      let raw = await open();
      while (sent < options.frames) {
        const edit = edits.next(() => Y.encodeStateAsUpdate(source));
        byKind[edit.kind]++;
        sent++;
        const answered = raw.waitFor((f) => f[0] === MessageType.awareness);
        raw.send(encodeUpdateMessage(edit.update));
        raw.send(new Uint8Array([MessageType.queryAwareness]));
        if ((await answered) === 'closed') {
          refused++;
          raw = await open();
        }
      }
      raw.ws.close();
      await raw.closed;
    };
    await Promise.all(Array.from({ length: options.workers ?? 8 }, worker));
    await Promise.all(typists.map((t) => t.stop()));
    const rejectedFrames = server.metrics.rejectedFrames;

    checked = true;
    const invariant = await checkReplicaInvariant({
      server,
      docId: caps.docId,
      token: caps.edit,
      honest,
      startFresh: () => startRelay(options.dataDir, failures.stream),
      timeoutMs: options.settleTimeoutMs,
    });
    return {
      framesSent: sent,
      framesRefused: refused,
      updatesAccepted: sent - refused,
      rejectedFrames,
      halfWayFailures: failures.count(),
      byKind,
      invariant,
    };
  } finally {
    // The checker closes the server and the clients itself; before it runs, we do.
    if (!checked) {
      for (const h of honest) h.client.destroy();
      await server.close();
    }
  }
}

/** The counts on one line, for a test's output or a bench note. */
export function describeAttack(result: AttackResult, seed: number): string {
  return (
    `seed ${seed}: ${result.framesSent} frames sent (${result.byKind.edit} unmutated edits, ${result.byKind['mutated edit']} mutated edits, ` +
    `${result.byKind['mutated state']} mutated whole states), ${result.framesRefused} refused (connection closed; metrics.rejectedFrames ` +
    `${result.rejectedFrames}), ${result.updatesAccepted} accepted, ${result.halfWayFailures} half-way failures, ${result.invariant.splits} splits found` +
    result.invariant.notes.map((n) => `; ${n}`).join('')
  );
}

/**
 * Long divergence (issue #3): two replicas start from one synced document, go offline, each
 * makes 10,000 edits, then reconnect to the relay at the same moment. Measures the time until
 * both hold the same document, and until the relay confirms every edit of both is stored. A run
 * whose replicas differ, or lose either side's text, fails.
 */
import * as Y from 'yjs';
import { mintDocument } from '../../../lib/auth/capabilities';
import { SaveTracker } from '../../../lib/client/SaveTracker';
import { BODY_FRAGMENT } from '../../../lib/documents/dataModel';
import { CONCORD_PROTOCOL_PARAM, CONCORD_PROTOCOL_VERSION } from '../../../lib/protocol/ackExtension';
import { seededRandom } from '../../support/fuzzFrames';
import { connectClient, type NodeClient } from '../../support/nodeClient';
import { startRelayProcess, type RelayProcess } from '../../support/relayProcess';
import { TempDirs } from '../../support/tempDirs';
import { ms } from '../format';
import type { Figure, Scenario } from '../scenario';
import { median } from '../stats';

const EDITS_PER_SIDE = 10_000;
const TIMEOUT_MS = 60_000;
const RELAY_ENV = { LOG_LEVEL: 'info' };

function paragraph(text: string): Y.XmlElement {
  const p = new Y.XmlElement('paragraph');
  p.insert(0, [new Y.XmlText(text)]);
  return p;
}

function paragraphText(fragment: Y.XmlFragment, index: number): string {
  return ((fragment.get(index) as Y.XmlElement).get(0) as Y.XmlText).toString();
}

/**
 * `count` edits, each its own transaction, typed like a person: mostly characters at a caret
 * that moves now and then, some backspaces. Side `own` (0 or 1) types into its own paragraph
 * and, one edit in ten, into the shared first paragraph.
 */
function typeOffline(doc: Y.Doc, own: number, count: number, random: () => number): void {
  const fragment = doc.getXmlFragment(BODY_FRAGMENT);
  const mine = (fragment.get(own + 1) as Y.XmlElement).get(0) as Y.XmlText;
  const shared = (fragment.get(0) as Y.XmlElement).get(0) as Y.XmlText;
  let caret = mine.length;
  const letters = own === 0 ? 'abcdefghij ' : 'klmnopqrst ';
  for (let i = 0; i < count; i++) {
    if (i % 10 === 9) {
      doc.transact(() => shared.insert(Math.floor(random() * (shared.length + 1)), letters[i % letters.length]!));
      continue;
    }
    if (random() < 0.05) caret = Math.floor(random() * (mine.length + 1));
    if (random() < 0.1 && caret > 0) {
      doc.transact(() => mine.delete(caret - 1, 1));
      caret--;
    } else {
      doc.transact(() => mine.insert(caret, letters[Math.floor(random() * letters.length)]!));
      caret++;
    }
  }
}

function sameDocument(a: Y.Doc, b: Y.Doc): boolean {
  return (
    Buffer.from(Y.encodeStateVector(a)).equals(Buffer.from(Y.encodeStateVector(b))) &&
    a.getXmlFragment(BODY_FRAGMENT).toString() === b.getXmlFragment(BODY_FRAGMENT).toString()
  );
}

function until(condition: () => boolean, docs: Y.Doc[], what: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!condition()) return;
      clearTimeout(timer);
      for (const d of docs) d.off('afterTransaction', check);
      resolve(performance.now() - started);
    };
    const timer = setTimeout(() => reject(new Error(`${what} did not happen within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    for (const d of docs) d.on('afterTransaction', check);
    check();
  });
}

async function oneRun(relay: RelayProcess, seed: number): Promise<{ converged: number; stored: number }> {
  const caps = mintDocument();
  const params = { [CONCORD_PROTOCOL_PARAM]: String(CONCORD_PROTOCOL_VERSION) };
  const clients: NodeClient[] = [];
  const trackers: SaveTracker[] = [];
  try {
    // 1. A shared start: three paragraphs, both replicas synced.
    // Each with a SaveTracker from the start: it handles the relay's ack messages and counts
    // every local edit, those made offline included.
    const join = () => {
      const c = connectClient(relay.wsUrl, caps.docId, caps.edit, new Y.Doc(), params);
      clients.push(c);
      trackers.push(new SaveTracker(c.doc, c.provider, { isRemoteOrigin: () => false }));
      return c;
    };
    const a = join();
    await a.synced;
    a.doc.getXmlFragment(BODY_FRAGMENT).push([paragraph('shared start'), paragraph('A: '), paragraph('B: ')]);
    const b = join();
    await b.synced;
    await until(() => sameDocument(a.doc, b.doc), [a.doc, b.doc], 'the initial sync');

    // 2. Apart: both go offline and edit.
    a.provider.disconnect();
    b.provider.disconnect();
    const random = seededRandom(seed);
    typeOffline(a.doc, 0, EDITS_PER_SIDE, random);
    typeOffline(b.doc, 1, EDITS_PER_SIDE, random);
    const aText = paragraphText(a.doc.getXmlFragment(BODY_FRAGMENT), 1);
    const bText = paragraphText(b.doc.getXmlFragment(BODY_FRAGMENT), 2);
    if (trackers.some((t) => t.unsaved < EDITS_PER_SIDE)) throw new Error('the offline edits were not all counted as unsaved');

    // 3. Together again.
    const started = performance.now();
    a.provider.connect();
    b.provider.connect();
    await until(() => sameDocument(a.doc, b.doc), [a.doc, b.doc], 'convergence');
    const converged = performance.now() - started;
    await new Promise<void>((resolve, reject) => {
      // Confirmations are not document changes: poll the trackers.
      const timer = setTimeout(() => reject(new Error('the relay never confirmed storage')), TIMEOUT_MS);
      const poll = () => (trackers.every((t) => t.unsaved === 0) ? (clearTimeout(timer), resolve()) : setTimeout(poll, 5));
      poll();
    });
    const stored = performance.now() - started;

    // 4. Both sides' text is there, exactly.
    for (const c of [a, b]) {
      const fragment = c.doc.getXmlFragment(BODY_FRAGMENT);
      if (paragraphText(fragment, 1) !== aText || paragraphText(fragment, 2) !== bText) {
        throw new Error('a replica lost text from one side after reconnecting');
      }
    }
    return { converged, stored };
  } finally {
    for (const t of trackers) t.destroy();
    for (const c of clients) c.destroy();
  }
}

export const divergence: Scenario = {
  name: 'divergence',
  description: `two replicas each make ${EDITS_PER_SIDE.toLocaleString('en')} edits apart, then reconnect to a Concord relay`,
  async run(options) {
    const dataDirs = new TempDirs();
    let relay: RelayProcess | null = null;
    try {
      relay = await startRelayProcess(dataDirs.make('concord-bench-diverge-'), RELAY_ENV);
      const runs: { converged: number; stored: number }[] = [];
      for (let i = 0; i < options.runs; i++) runs.push(await oneRun(relay, 100 + i));
      const converged = runs.map((r) => r.converged);
      const stored = runs.map((r) => r.stored);
      const figures: Figure[] = [
        { name: 'edits per side while apart', value: EDITS_PER_SIDE, unit: 'count', display: EDITS_PER_SIDE.toLocaleString('en') },
        { name: 'reconnect → both replicas identical (median)', value: median(converged), unit: 'ms', display: `${ms(median(converged))} (runs: ${converged.map((v) => v.toFixed(0)).join(', ')} ms)` },
        { name: 'reconnect → every edit of both confirmed stored (median)', value: median(stored), unit: 'ms', display: `${ms(median(stored))} (runs: ${stored.map((v) => v.toFixed(0)).join(', ')} ms)` },
      ];
      return {
        figures,
        notes: [`Median of ${options.runs} runs, relay-only Concord process (server/relayMain.ts). Target: identical within 2 s of reconnecting.`],
        failures: [],
      };
    } finally {
      await relay?.stop('SIGKILL');
      dataDirs.removeAll();
    }
  },
};

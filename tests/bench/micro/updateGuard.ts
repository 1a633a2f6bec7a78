/**
 * What the relay's all-or-nothing checks (issue #15) cost per update, in a tight loop:
 * 40,002 single-keystroke updates (10% deletions) into one paragraph, applied as the relay did
 * before (decode check + apply) and as it does now (checkUpdate, one tagged transaction, the
 * placement check), alternating, medians of 10 runs each; and as it does with client-id claims
 * (a document holding a claim, so the claims checks of updateGuard and Room.change all run, and
 * the writer's permission is looked up).
 *
 *   npx tsx tests/bench/micro/updateGuard.ts
 */
import * as Y from 'yjs';
import { assertPlacedBetweenNeighbours, assertWellFormedUpdate, checkUpdate } from '../../../server/relay/updateGuard';
import { ClaimedClientIds } from '../../../server/relay/ClaimedClientIds';
import { seededRandom } from '../../support/fuzzFrames';

const KEYSTROKES = 40_000;
const RUNS = 10;

function keystrokes(): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  const paragraph = new Y.XmlElement('paragraph');
  doc.getXmlFragment('prosemirror').insert(0, [paragraph]);
  const text = new Y.XmlText();
  paragraph.insert(0, [text]);
  const random = seededRandom(1);
  for (let i = 0; i < KEYSTROKES; i++) {
    if (random() < 0.1 && text.length > 0) text.delete(Math.floor(random() * text.length), 1);
    else text.insert(Math.floor(random() * (text.length + 1)), 'x');
  }
  return updates;
}

type Mode = 'unchecked' | 'checked' | 'claims';

function run(updates: Uint8Array[], mode: Mode): number {
  const doc = new Y.Doc();
  const origin = { kind: 'client' as const, connectionId: 1 };
  const claimed = new ClaimedClientIds(doc);
  if (mode === 'claims') claimed.claimsMap.set('4242', 'a-claim-of-someone-else');
  doc.on('update', () => undefined);
  const started = performance.now();
  for (const update of updates) {
    if (mode === 'unchecked') {
      assertWellFormedUpdate(update);
      Y.applyUpdate(doc, update, origin);
      continue;
    }
    const readiness = checkUpdate(doc, update, mode === 'claims' ? claimed.serverOnly : undefined);
    if (!readiness.complete) throw new Error('a keystroke update should be complete');
    if (mode === 'claims') for (const client of readiness.writes.keys()) if (claimed.mayWrite(origin, client) === false) throw new Error('not claimed');
    doc.transact((transaction) => {
      Y.applyUpdate(doc, update, origin);
      assertPlacedBetweenNeighbours(transaction, readiness.writes.keys());
      if (mode === 'claims' && transaction.changed.has(claimed.serverOnly.type)) throw new Error('claims changed');
    }, origin);
  }
  return ((performance.now() - started) * 1000) / updates.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const updates = keystrokes();
const before: number[] = [];
const after: number[] = [];
const withClaims: number[] = [];
for (let i = 0; i < RUNS; i++) {
  after.push(run(updates, 'checked'));
  withClaims.push(run(updates, 'claims'));
  before.push(run(updates, 'unchecked'));
}
const [b, a, c] = [median(before), median(after), median(withClaims)];
console.log(`${updates.length} updates, median of ${RUNS}: unchecked ${b.toFixed(2)} µs/update, checked ${a.toFixed(2)} µs/update (+${(a - b).toFixed(2)} µs, ${((a / b - 1) * 100).toFixed(0)}%)`);
console.log(`with a claimed document (claims checks on): ${c.toFixed(2)} µs/update (+${(c - a).toFixed(2)} µs over checked)`);

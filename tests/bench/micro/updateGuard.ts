/**
 * What the relay's all-or-nothing checks (issue #15) cost per update, in a tight loop:
 * 40,002 single-keystroke updates (10% deletions) into one paragraph, applied as the relay did
 * before (decode check + apply) and as it does now (checkUpdate, one tagged transaction, the
 * placement check), alternating, medians of 10 runs each.
 *
 *   npx tsx tests/bench/micro/updateGuard.ts
 */
import * as Y from 'yjs';
import { assertPlacedBetweenNeighbours, assertWellFormedUpdate, checkUpdate } from '../../../server/relay/updateGuard';
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

function run(updates: Uint8Array[], checked: boolean): number {
  const doc = new Y.Doc();
  const origin = { kind: 'client' };
  doc.on('update', () => undefined);
  const started = performance.now();
  for (const update of updates) {
    if (!checked) {
      assertWellFormedUpdate(update);
      Y.applyUpdate(doc, update, origin);
      continue;
    }
    const readiness = checkUpdate(doc, update);
    if (!readiness.complete) throw new Error('a keystroke update should be complete');
    doc.transact((transaction) => {
      Y.applyUpdate(doc, update, origin);
      assertPlacedBetweenNeighbours(transaction, readiness.writes.keys());
    }, origin);
  }
  return ((performance.now() - started) * 1000) / updates.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const updates = keystrokes();
const before: number[] = [];
const after: number[] = [];
for (let i = 0; i < RUNS; i++) {
  after.push(run(updates, true));
  before.push(run(updates, false));
}
const [b, a] = [median(before), median(after)];
console.log(`${updates.length} updates, median of ${RUNS}: unchecked ${b.toFixed(2)} µs/update, checked ${a.toFixed(2)} µs/update (+${(a - b).toFixed(2)} µs, ${((a / b - 1) * 100).toFixed(0)}%)`);

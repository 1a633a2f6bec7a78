/**
 * Authorship from Yjs item IDs (lib/editor/authorshipRuns.ts), the "See new changes" model
 * (lib/client/lastSeen.ts) and the authorship plugin's decorations (lib/editor/authorship.ts).
 */
import { describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { EditorState } from 'prosemirror-state';
import { updateYFragment, yXmlFragmentToProseMirrorRootNode } from 'y-prosemirror';
import type { Node as PmNode } from 'prosemirror-model';
import { schema } from '../../lib/editor/schema';
import { BODY_FRAGMENT } from '../../lib/documents/dataModel';
import { recordAuthor } from '../../lib/documents/authors';
import { authorRuns, bodyText, newRuns, type NewChangesRange, type StateVector } from '../../lib/editor/authorshipRuns';
import { computeDecorations } from '../../lib/editor/authorship';
import { describeNewChanges, EDITING_CLEARS_AFTER_MS, LastSeenModel, readLastSeen, writeLastSeen } from '../../lib/client/lastSeen';
import type { KeyValueStorage } from '../../lib/client/browserStorage';
import { AuthorRecorder } from '../../lib/client/AuthorRecorder';
import { allAuthors, authorOf } from '../../lib/documents/authors';

const A = 101;
const B = 202;

function replica(clientID: number): Y.Doc {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  return doc;
}

function body(doc: Y.Doc): Y.XmlFragment {
  return doc.getXmlFragment(BODY_FRAGMENT);
}

function pmDoc(doc: Y.Doc): PmNode {
  return yXmlFragmentToProseMirrorRootNode(body(doc), schema);
}

function sync(...docs: Y.Doc[]): void {
  for (const from of docs) for (const to of docs) if (from !== to) Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)));
}

function stateVector(doc: Y.Doc): Map<number, number> {
  return Y.decodeStateVector(Y.encodeStateVector(doc));
}

/** Edits `doc` as its editor does: a ProseMirror transaction, written to Yjs by y-prosemirror's diff. */
function editAsEditor(doc: Y.Doc, change: (state: EditorState) => EditorState['tr']): void {
  const state = EditorState.create({ schema, doc: pmDoc(doc) });
  const next = change(state).doc;
  doc.transact(() => updateYFragment(doc, body(doc), next, { mapping: new Map(), isOMark: new Map() }));
}

function paragraph(...children: Array<Y.XmlText | Y.XmlElement>): Y.XmlElement {
  const p = new Y.XmlElement('paragraph');
  p.insert(0, children);
  return p;
}

/** The text of every segment, read from the ProseMirror doc at the segment's positions. */
function segmentTexts(doc: Y.Doc): Array<{ client: number; text: string }> {
  const pm = pmDoc(doc);
  return bodyText(body(doc), schema).segments.map((s) => ({ client: s.client, text: pm.textBetween(s.from, s.to) }));
}

/** A seeded generator (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every Y.XmlText under `parent`, in document order. */
function texts(parent: Y.XmlFragment | Y.XmlElement): Y.XmlText[] {
  return parent.toArray().flatMap((child) => (child instanceof Y.XmlText ? [child] : child instanceof Y.XmlElement ? texts(child) : []));
}

describe('bodyText: ProseMirror positions from the Yjs tree', () => {
  test('text, marks, leaf nodes, nesting and empty blocks count as ProseMirror counts them', () => {
    const doc = replica(A);
    const heading = new Y.XmlElement('heading');
    heading.setAttribute('level', 2 as unknown as string);
    heading.insert(0, [new Y.XmlText('Title')]);
    const marked = new Y.XmlText();
    marked.insert(0, 'plain ');
    marked.insert(6, 'bold', { strong: {} });
    marked.insert(10, ' tail');
    const item = new Y.XmlElement('list_item');
    item.insert(0, [paragraph(new Y.XmlText('in a list'))]);
    const list = new Y.XmlElement('bullet_list');
    list.insert(0, [item]);
    body(doc).insert(0, [
      heading,
      paragraph(marked, new Y.XmlElement('hard_break'), new Y.XmlText('after break')),
      new Y.XmlElement('horizontal_rule'),
      paragraph(),
      list,
      paragraph(new Y.XmlText('last')),
    ]);
    const pm = pmDoc(doc);
    const walked = bodyText(body(doc), schema);
    expect(walked.size).toBe(pm.content.size);
    expect(segmentTexts(doc).map((s) => s.text)).toEqual(['Title', 'plain ', 'bold', ' tail', 'after break', 'in a list', 'last']);
  });

  test('deleted text and deleted elements take no positions', () => {
    const doc = replica(A);
    const text = new Y.XmlText('keep gone keep');
    body(doc).insert(0, [paragraph(new Y.XmlText('removed paragraph')), paragraph(text)]);
    text.delete(5, 5);
    body(doc).delete(0, 1);
    expect(bodyText(body(doc), schema).size).toBe(pmDoc(doc).content.size);
    expect(segmentTexts(doc).map((s) => s.text).join('')).toBe('keep keep');
  });

  test('an element the schema lacks is skipped, and the size then shows the mismatch', () => {
    const doc = replica(A);
    const alien = new Y.XmlElement('table');
    alien.insert(0, [paragraph(new Y.XmlText('cell'))]);
    body(doc).insert(0, [paragraph(new Y.XmlText('known')), alien]);
    const walked = bodyText(body(doc), schema);
    expect(walked.segments).toHaveLength(1);
    expect(walked.size).toBe(pmDoc(doc).content.size);
  });

  test.each([1, 2, 3, 4, 5, 6])('random concurrent edits by two clients (seed %i): every character is its writer’s', (seed) => {
    const next = random(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const a = replica(A);
    const b = replica(B);
    body(a).insert(0, [paragraph(new Y.XmlText('abc'))]);
    sync(a, b);
    // A types only lower case, B only upper case: the case of a character says who wrote it.
    const letters = (doc: Y.Doc, n: number) =>
      Array.from({ length: n }, () => String.fromCharCode((doc === a ? 97 : 65) + Math.floor(next() * 26))).join('');
    for (let step = 0; step < 120; step++) {
      const doc = next() < 0.5 ? a : b;
      const all = texts(body(doc));
      const roll = next();
      if (roll < 0.45 && all.length > 0) {
        const text = pick(all);
        text.insert(Math.floor(next() * (text.length + 1)), letters(doc, 1 + Math.floor(next() * 4)), next() < 0.3 ? { em: {} } : undefined);
      } else if (roll < 0.6 && all.length > 0) {
        const text = pick(all);
        if (text.length > 1) text.format(0, Math.ceil(text.length / 2), { strong: next() < 0.5 ? {} : null });
      } else if (roll < 0.75 && all.length > 0) {
        const text = pick(all);
        if (text.length > 0) {
          const at = Math.floor(next() * text.length);
          text.delete(at, Math.min(text.length - at, 1 + Math.floor(next() * 3)));
        }
      } else if (roll < 0.85) {
        const at = Math.floor(next() * (body(doc).length + 1));
        const block = next() < 0.2 ? new Y.XmlElement('horizontal_rule') : paragraph(new Y.XmlText(letters(doc, 2)), new Y.XmlElement('hard_break'), new Y.XmlText(letters(doc, 1)));
        body(doc).insert(at, [block]);
      } else if (roll < 0.9 && body(doc).length > 1) {
        body(doc).delete(Math.floor(next() * body(doc).length), 1);
      } else {
        // Typing as the editor does: a ProseMirror step, written by y-prosemirror's diff.
        const pm = pmDoc(doc);
        const positions: number[] = [];
        pm.descendants((node, pos) => {
          if (node.isText) for (let i = 0; i <= node.nodeSize; i++) positions.push(pos + i);
        });
        if (positions.length > 0) editAsEditor(doc, (state) => state.tr.insertText(letters(doc, 2), pick(positions)));
      }
      if (next() < 0.3) sync(a, b);
    }
    sync(a, b);
    for (const doc of [a, b]) {
      expect(bodyText(body(doc), schema).size).toBe(pmDoc(doc).content.size);
      const segments = segmentTexts(doc);
      for (const { client, text } of segments) expect(text).toMatch(client === A ? /^[a-z]+$/ : /^[A-Z]+$/);
      const pm = pmDoc(doc);
      expect(segments.map((s) => s.text).join('')).toBe(pm.textBetween(0, pm.content.size, '', ''));
    }
  });
});

describe('authorRuns', () => {
  test('adjacent text of one client is one run; another client’s text splits it', () => {
    const a = replica(A);
    const b = replica(B);
    const text = new Y.XmlText('hello world');
    body(a).insert(0, [paragraph(text)]);
    sync(a, b);
    (texts(body(b))[0]!).insert(5, ' big');
    sync(a, b);
    text.insert(text.length, '!');
    const pm = pmDoc(a);
    const runs = authorRuns(bodyText(body(a), schema).segments).map((r) => [r.client, pm.textBetween(r.from, r.to)]);
    expect(runs).toEqual([
      [A, 'hello'],
      [B, ' big'],
      [A, ' world!'],
    ]);
  });
});

describe('newRuns: what is new since a state vector', () => {
  function setUp() {
    const mine = replica(A);
    const other = replica(B);
    const text = new Y.XmlText('abc');
    body(other).insert(0, [paragraph(text)]);
    sync(mine, other);
    return { mine, other, text };
  }

  function newTexts(doc: Y.Doc, range: NewChangesRange): string[] {
    const pm = pmDoc(doc);
    return newRuns(bodyText(body(doc), schema).segments, range).map((r) => pm.textBetween(r.from, r.to));
  }

  test('text of others after the last-seen state is new, cut inside an item Yjs merged', () => {
    const { mine, other, text } = setUp();
    const seen = stateVector(mine);
    // Appended by the same client: Yjs merges "abc" and "def" into one item with clock 0.
    text.insert(3, 'def');
    sync(mine, other);
    (texts(body(mine))[0]!).insert(0, 'mine ');
    sync(mine, other);
    const range = { since: seen, until: stateVector(mine), exclude: new Set([A]) };
    expect(newTexts(mine, range)).toEqual(['def']);
  });

  test('text that arrived after the caught-up state is not new, nor is this browser’s own', () => {
    const { mine, other, text } = setUp();
    const seen = stateVector(mine);
    text.insert(0, 'one ');
    sync(mine, other);
    const until = stateVector(mine);
    text.insert(text.length, ' two');
    (texts(body(mine))[0]!).insert(0, 'own ');
    sync(mine, other);
    expect(newTexts(mine, { since: seen, until, exclude: new Set([A]) })).toEqual(['one ']);
  });

  test('a client unknown to the last-seen state is new from its first clock; deleted new text is not shown', () => {
    const { mine, other } = setUp();
    const seen = stateVector(mine);
    const third = replica(303);
    sync(mine, other, third);
    const added = new Y.XmlText('gone soon');
    body(third).insert(1, [paragraph(new Y.XmlText('third')), paragraph(added)]);
    added.delete(0, added.length);
    sync(mine, other, third);
    expect(newTexts(mine, { since: seen, until: stateVector(mine), exclude: new Set([A]) })).toEqual(['third']);
  });
});

describe('computeDecorations', () => {
  test('authorship runs carry the recorded name and colour; unknown clients a neutral author', () => {
    const a = replica(A);
    const b = replica(B);
    recordAuthor(a, A, { name: 'Ada', color: '#0969da' });
    body(a).insert(0, [paragraph(new Y.XmlText('by ada'))]);
    sync(a, b);
    (texts(body(b))[0]!).insert(6, ' by nobody');
    sync(a, b);
    const pm = pmDoc(a);
    const set = computeDecorations(body(a), pm, { showAuthors: true, newChanges: null })!;
    const shown = set.find().map((d) => ({ ...(d.spec as object), text: pm.textBetween(d.from, d.to) }));
    expect(shown).toEqual([
      { kind: 'author', name: 'Ada', color: '#0969da', text: 'by ada' },
      { kind: 'author', name: 'Unknown author', color: '#8c959f', text: ' by nobody' },
    ]);
  });

  test('a ProseMirror doc out of step with Yjs gets no decorations', () => {
    const a = replica(A);
    body(a).insert(0, [paragraph(new Y.XmlText('text'))]);
    const stale = pmDoc(a);
    (texts(body(a))[0]!).insert(0, 'more ');
    expect(computeDecorations(body(a), stale, { showAuthors: true, newChanges: null })).toBeNull();
  });
});

describe('AuthorRecorder', () => {
  const NOT_AN_EDIT = { kind: 'schema-record' };

  test('records this client at its first edit, not before, and only its own edits count', () => {
    const doc = replica(A);
    const recorder = new AuthorRecorder(doc, { name: 'Ada', color: '#0969da' }, (origin) => origin !== NOT_AN_EDIT);
    doc.transact(() => doc.getMap('concord').set('schemaVersion:1', 1), NOT_AN_EDIT);
    const remote = replica(B);
    body(remote).insert(0, [paragraph(new Y.XmlText('from elsewhere'))]);
    sync(remote, doc);
    expect(allAuthors(doc).size).toBe(0);
    texts(body(doc))[0]!.insert(0, 'mine ');
    expect(authorOf(doc, A)).toEqual({ name: 'Ada', color: '#0969da' });
    expect([...allAuthors(doc).keys()]).toEqual([A]);
    // The entry travels with the edit: a replica that receives both can name the writer.
    sync(doc, remote);
    expect(authorOf(remote, A)?.name).toBe('Ada');
    recorder.destroy();
  });

  test('a rename updates the entry; a new client ID (a collision, a new page load) gets its own', () => {
    const doc = replica(A);
    const recorder = new AuthorRecorder(doc, { name: 'Ada', color: '#0969da' }, () => true);
    body(doc).insert(0, [paragraph(new Y.XmlText('one'))]);
    recorder.setAuthor({ name: 'Ada L.', color: '#1a7f37' });
    expect(authorOf(doc, A)).toEqual({ name: 'Ada L.', color: '#1a7f37' });
    doc.clientID = A + 1;
    texts(body(doc))[0]!.insert(3, ' two');
    expect(authorOf(doc, A + 1)).toEqual({ name: 'Ada L.', color: '#1a7f37' });
    recorder.destroy();
  });
});

describe('LastSeenModel', () => {
  const vector = (entries: Array<[number, number]>): StateVector => new Map(entries);
  /** "Is there new text?" as the body would answer: another client advanced past `since`. */
  const anyAdvance = (range: NewChangesRange) =>
    [...range.until].some(([client, clock]) => !range.exclude.has(client) && clock > (range.since.get(client) ?? 0));

  test('first visit: nothing is new, the server’s state becomes what was seen', () => {
    const model = new LastSeenModel(null, anyAdvance);
    model.caughtUp(vector([[B, 5]]), false);
    expect(model.record).toBeNull();
    model.caughtUp(vector([[B, 9]]), true);
    expect(model.range).toBeNull();
    expect(model.record?.seen).toEqual(vector([[B, 9]]));
  });

  test('a catch-up past what was seen highlights it; live changes meanwhile keep what was seen in place', () => {
    const model = new LastSeenModel({ seen: vector([[B, 5]]), own: [A] }, anyAdvance);
    model.addOwnClient(A + 1);
    model.caughtUp(vector([[B, 5], [A + 1, 3]]), false); // the local replica: only our own text
    expect(model.range).toBeNull();
    model.caughtUp(vector([[B, 8], [A + 1, 3]]), true); // the server: B wrote while we were away
    expect(model.range).toEqual({ since: vector([[B, 5], [A + 1, 3]]), until: vector([[B, 8], [A + 1, 3]]), exclude: new Set([A, A + 1]) });
    model.seenLive(vector([[B, 12], [A + 1, 3]]));
    expect(model.range?.until).toEqual(vector([[B, 8], [A + 1, 3]]));
    // A reload before dismissing still finds them new.
    expect(model.record?.seen).toEqual(vector([[B, 5], [A + 1, 3]]));
  });

  test('dismiss, or editing for a while, clears the highlight and remembers the current state', () => {
    const model = new LastSeenModel({ seen: vector([[B, 5]]), own: [] }, anyAdvance);
    model.caughtUp(vector([[B, 8]]), true);
    model.edited(vector([[B, 8], [A, 1]]), 1_000);
    model.edited(vector([[B, 8], [A, 2]]), 1_000 + EDITING_CLEARS_AFTER_MS - 1);
    expect(model.range).not.toBeNull();
    model.edited(vector([[B, 9], [A, 3]]), 1_000 + EDITING_CLEARS_AFTER_MS);
    expect(model.range).toBeNull();
    expect(model.record?.seen).toEqual(vector([[B, 9], [A, 3]]));

    model.caughtUp(vector([[B, 12], [A, 3]]), true);
    expect(model.range).not.toBeNull();
    model.dismiss(vector([[B, 12], [A, 3]]));
    expect(model.range).toBeNull();
    model.seenLive(vector([[B, 13], [A, 3]]));
    expect(model.record?.seen).toEqual(vector([[B, 13], [A, 3]]));
  });

  test('what was seen never moves back (a forgotten local replica loads empty)', () => {
    const model = new LastSeenModel({ seen: vector([[B, 5]]), own: [] }, anyAdvance);
    model.caughtUp(vector([]), false);
    expect(model.record?.seen).toEqual(vector([[B, 5]]));
    model.caughtUp(vector([[B, 7]]), true);
    expect(model.range?.since).toEqual(vector([[B, 5]]));
  });

  test('a catch-up with no new body text counts as seen', () => {
    const model = new LastSeenModel({ seen: vector([[B, 5]]), own: [] }, () => false);
    model.caughtUp(vector([[B, 8]]), true);
    expect(model.range).toBeNull();
    expect(model.record?.seen).toEqual(vector([[B, 8]]));
  });

  test('the record survives storage, and an unreadable one is a first visit', () => {
    const store = new Map<string, string>();
    const storage: KeyValueStorage = {
      getItem: (k) => store.get(k) ?? null,
      setItem: (k, v) => void store.set(k, v),
      removeItem: (k) => void store.delete(k),
    };
    writeLastSeen(storage, 'doc1', { seen: vector([[B, 5], [A, 2]]), own: [A] });
    expect(readLastSeen(storage, 'doc1')).toEqual({ seen: vector([[B, 5], [A, 2]]), own: [A] });
    store.set('concord:last-seen:doc2', '{"v":1,"seen":[["x",1]],"own":[]}');
    expect(readLastSeen(storage, 'doc2')).toBeNull();
  });

  test('the bar names the authors', () => {
    expect(describeNewChanges({ count: 1, authors: ['Bo'] })).toBe('1 change by Bo since you last looked');
    expect(describeNewChanges({ count: 3, authors: ['Ada', 'Bo'] })).toBe('3 changes by Ada and Bo since you last looked');
    expect(describeNewChanges({ count: 4, authors: ['A', 'B', 'C'] })).toBe('4 changes by A, B and C since you last looked');
    expect(describeNewChanges({ count: 9, authors: ['A', 'B', 'C', 'D'] })).toBe('9 changes by A, B and 2 others since you last looked');
  });
});

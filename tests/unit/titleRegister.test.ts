/**
 * The title as a multi-value register (issue #16, item 6): concurrent whole-title replacements
 * are kept as a conflict with every candidate, a pick resolves it everywhere, sequential ones
 * never conflict, old documents keep their Y.Text title, hostile entries are ignored.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { sha256 } from '@noble/hashes/sha2.js';
import { BODY_FRAGMENT, TITLE_TEXT } from '../../lib/documents/dataModel';
import {
  LEGACY_TITLE_ID,
  MAX_TITLE_CHARS,
  observeTitle,
  pickTitle,
  readTitle,
  replaceTitle,
  setTitle,
  titlesMap,
  titleState,
} from '../../lib/documents/title';
import { documentDigest, equalBytes } from '../../lib/protocol/documentDigest';
import { documentTitle } from '../../lib/documents/exportDocument';
import { MAX_VERSION_NAME, titleChoiceName } from '../../lib/client/titleChoiceVersion';

const ALICE = { name: 'Alice', color: '#d1242f' };
const BOB = { name: 'Bob', color: '#0969da' };

/** Exchanges everything each replica lacks, both ways (a partition healing). */
function exchange(...docs: Y.Doc[]): void {
  for (const from of docs) for (const to of docs) if (from !== to) Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)));
}

function replicaOf(source: Y.Doc): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(source));
  return doc;
}

const values = (doc: Y.Doc) => titleState(doc).candidates.map((c) => c.value).sort();

describe('the title register', () => {
  it('keeps both of two concurrent replacements as a conflict on both replicas, showing the same one', () => {
    const base = new Y.Doc();
    setTitle(base, 'A');
    const one = replicaOf(base);
    const two = replicaOf(base);
    setTitle(one, 'B', { author: ALICE, now: 1_000 });
    setTitle(two, 'C', { author: BOB, now: 2_000 });
    expect(titleState(one)).toMatchObject({ title: 'B', conflict: false });

    exchange(one, two);

    for (const doc of [one, two]) {
      const state = titleState(doc);
      expect(state.conflict).toBe(true);
      expect(values(doc)).toEqual(['B', 'C']);
      // The later replacement is shown, everywhere; the other is offered beside it.
      expect(state.title).toBe('C');
      expect(state.candidates.map((c) => c.author?.name)).toEqual(['Bob', 'Alice']);
      expect(documentTitle(doc)).toBe('C');
    }
    expect(titleState(one).candidates).toEqual(titleState(two).candidates);
    // The map holds the candidates and nothing else: "A" was deleted by both writers.
    expect([...titlesMap(one).keys()].sort()).toEqual(titleState(one).candidates.map((c) => c.id).sort());
  });

  it('a pick resolves the conflict on every replica, including one that was offline meanwhile', () => {
    const base = new Y.Doc();
    setTitle(base, 'A');
    const [one, two, three] = [replicaOf(base), replicaOf(base), replicaOf(base)];
    setTitle(one, 'B', { now: 1 });
    setTitle(two, 'C', { now: 2 });
    exchange(one, two, three);
    expect(titleState(three).conflict).toBe(true);
    const older = titleState(two).candidates.find((c) => c.value === 'B')!;

    expect(pickTitle(two, older.id, { author: BOB })).toBe('B');
    expect(titleState(two)).toMatchObject({ title: 'B', conflict: false });
    exchange(one, two, three);

    for (const doc of [one, two, three]) {
      expect(titleState(doc).conflict).toBe(false);
      expect(readTitle(doc)).toBe('B');
      expect(titlesMap(doc).size).toBe(1);
    }
    // A candidate no longer there cannot be picked.
    expect(pickTitle(one, older.id)).toBeNull();
  });

  it('never conflicts on replacements made one after another, whichever replica makes them', () => {
    const one = new Y.Doc();
    const two = new Y.Doc();
    for (let i = 0; i < 20; i++) {
      setTitle(i % 2 === 0 ? one : two, `title ${i}`, { now: 1_000 - i });
      exchange(one, two);
      for (const doc of [one, two]) {
        expect(titleState(doc)).toMatchObject({ title: `title ${i}`, conflict: false });
        expect(titlesMap(doc).size).toBe(1);
      }
    }
  });

  it('a replacement typed while another arrived does not supersede it (what the title field commits)', () => {
    const one = new Y.Doc();
    setTitle(one, 'A');
    const two = replicaOf(one);
    const seen = titleState(two).candidates.map((c) => c.id);
    setTitle(one, 'B');
    exchange(one, two);
    expect(readTitle(two)).toBe('B');
    replaceTitle(two, 'A, edited', seen);
    expect(values(two)).toEqual(['A, edited', 'B']);
    // Seeing everything, it would have replaced "B".
    replaceTitle(two, 'final', titleState(two).candidates.map((c) => c.id));
    expect(titleState(two)).toMatchObject({ title: 'final', conflict: false });
  });

  it('shows the same candidate on every replica, whatever order the replacements arrive in', () => {
    const base = new Y.Doc();
    setTitle(base, 'A');
    const writers = [replicaOf(base), replicaOf(base), replicaOf(base)];
    // Equal clocks: the choice falls to the IDs.
    writers.forEach((doc, i) => setTitle(doc, `from ${i}`, { now: 5 }));
    const updates = writers.map((doc) => Y.encodeStateAsUpdate(doc));
    const orders = [[0, 1, 2], [2, 1, 0], [1, 2, 0]];
    const shown = orders.map((order) => {
      const reader = replicaOf(base);
      for (const i of order) Y.applyUpdate(reader, updates[i]!);
      expect(titleState(reader).candidates).toHaveLength(3);
      return { title: readTitle(reader), ids: titleState(reader).candidates.map((c) => c.id), digest: documentDigest(reader) };
    });
    for (const s of shown) {
      expect(s.title).toBe(shown[0]!.title);
      expect(s.ids).toEqual(shown[0]!.ids);
      expect(equalBytes(s.digest, shown[0]!.digest)).toBe(true);
    }
  });

  it('an old document keeps its Y.Text title; its first replacements supersede it', () => {
    const old = new Y.Doc();
    old.getText(TITLE_TEXT).insert(0, 'Written before the register');
    expect(titleState(old)).toEqual({
      title: 'Written before the register',
      candidates: [{ id: LEGACY_TITLE_ID, value: 'Written before the register', supersedes: [], author: null, at: 0 }],
      conflict: false,
    });
    const one = replicaOf(old);
    const two = replicaOf(old);
    setTitle(one, 'B');
    setTitle(two, 'C');
    exchange(one, two);
    // Two candidates, not three: each replacement superseded the old title.
    expect(values(one)).toEqual(['B', 'C']);
    // Plain Yjs clients that only read the text see what they always saw: a merge.
    expect(one.getText(TITLE_TEXT).toString()).toContain('B');
    // An empty old document has the empty title, and setting it to empty changes nothing.
    const empty = new Y.Doc();
    expect(readTitle(empty)).toBe('');
    const updates: Uint8Array[] = [];
    empty.on('update', (u: Uint8Array) => updates.push(u));
    setTitle(empty, '');
    expect(updates).toHaveLength(0);
  });

  it('setTitle of the only candidate changes nothing; of a candidate in a conflict, it resolves it', () => {
    const doc = new Y.Doc();
    setTitle(doc, 'Same');
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    setTitle(doc, 'Same');
    expect(updates).toHaveLength(0);
    const other = replicaOf(doc);
    setTitle(doc, 'X');
    setTitle(other, 'Y');
    exchange(doc, other);
    setTitle(doc, 'X');
    expect(titleState(doc)).toMatchObject({ title: 'X', conflict: false });
  });

  it('ignores malformed entries without crashing, and they hide no valid candidate', () => {
    const doc = new Y.Doc();
    setTitle(doc, 'Good');
    const good = titleState(doc).candidates[0]!.id;
    const map = titlesMap(doc);
    const nested = new Y.Map();
    doc.transact(() => {
      map.set('n', 42);
      map.set('s', 'just a string');
      map.set('arr', ['value']);
      map.set('null', null);
      map.set('y', nested);
      map.set('noValue', { supersedes: [good], at: 1 });
      map.set('badValue', { value: 7, supersedes: [good], at: 1 });
      map.set('long', { value: 'x'.repeat(MAX_TITLE_CHARS + 1), supersedes: [good], at: 1 });
      map.set('badAt', { value: 'bad at', supersedes: [good], at: 'soon' });
      map.set('badSupersedes', { value: 'bad list', supersedes: good, at: 1 });
      map.set('badMember', { value: 'bad member', supersedes: [good, 3], at: 1 });
      map.set(LEGACY_TITLE_ID, { value: 'pretends to be the text', supersedes: [good], at: 1 });
      map.set('x'.repeat(65), { value: 'long id', supersedes: [good], at: 1 });
      map.set('badAuthor', { value: 'Good too', supersedes: [], at: 0, author: { name: 'Eve', color: 'red; background: url(x)' } });
    });
    const reader = replicaOf(doc);
    for (const d of [doc, reader]) {
      const state = titleState(d);
      expect(state.candidates.map((c) => c.value)).toEqual(['Good', 'Good too']);
      // An author with a colour that is not one is dropped, the entry kept.
      expect(state.candidates[1]!.author).toBeNull();
      expect(readTitle(d)).toBe('Good');
    }
    // Digests and exports read the same without throwing.
    expect(equalBytes(documentDigest(doc), documentDigest(reader))).toBe(true);
    // A replacement supersedes the valid candidates; what is malformed stays ignored.
    setTitle(reader, 'Fixed');
    expect(titleState(reader)).toMatchObject({ title: 'Fixed', conflict: false });
  });

  it('an entry another supersedes is no candidate, even when its writer left it in the map', () => {
    const doc = new Y.Doc();
    setTitle(doc, 'Kept by a careless client');
    const old = titleState(doc).candidates[0]!.id;
    // A plain Yjs client writing the register without deleting what it replaced.
    titlesMap(doc).set('careless-1', { value: 'Newer', supersedes: [old], at: 0 });
    expect(titleState(doc)).toMatchObject({ title: 'Newer', conflict: false });
  });

  it('truncates what it writes to what readers accept', () => {
    const doc = new Y.Doc();
    setTitle(doc, 'y'.repeat(MAX_TITLE_CHARS + 50));
    expect(readTitle(doc)).toBe('y'.repeat(MAX_TITLE_CHARS));
  });

  it('tells observers once per transaction, with its origin', () => {
    const doc = new Y.Doc();
    const seen: unknown[] = [];
    const stop = observeTitle(doc, (origin) => seen.push(origin));
    setTitle(doc, 'one', { origin: 'me' });
    doc.getText(TITLE_TEXT).insert(0, 'legacy edit ');
    doc.getXmlFragment(BODY_FRAGMENT).insert(0, [new Y.XmlText('body only')]);
    stop();
    setTitle(doc, 'two');
    expect(seen).toEqual(['me', null]);
  });
});

describe('the digest with the register', () => {
  it('is what it was for a document without a register (pages of older builds agree)', () => {
    const doc = new Y.Doc();
    doc.getText(TITLE_TEXT).insert(0, 'old title');
    const snapshot = Y.encodeSnapshot(Y.snapshot(doc));
    const shown = new TextEncoder().encode(`${doc.getXmlFragment(BODY_FRAGMENT).toString()}\0old title`);
    const before = new Uint8Array([...snapshot, ...shown]);
    expect(equalBytes(documentDigest(doc), sha256(before))).toBe(true);
  });

  it('differs when the candidates differ at equal state vectors', () => {
    const doc = new Y.Doc();
    setTitle(doc, 'A');
    const other = replicaOf(doc);
    expect(equalBytes(documentDigest(doc), documentDigest(other))).toBe(true);
    // Content integrated differently (the class of split the digest is for): same state vector
    // and delete set, another candidate value. Made here by changing the entry in memory.
    const id = titleState(other).candidates[0]!.id;
    (titlesMap(other).get(id) as Record<string, unknown>).value = 'changed in memory';
    expect(readTitle(other)).toBe('changed in memory');
    expect(equalBytes(Y.encodeStateVector(doc), Y.encodeStateVector(other))).toBe(true);
    expect(equalBytes(documentDigest(doc), documentDigest(other))).toBe(false);
  });
});

describe('the name of the version recording a pick', () => {
  it('quotes the title, shortened to fit the API', () => {
    expect(titleChoiceName('Plan B')).toBe('Title chosen: “Plan B”');
    const long = titleChoiceName('z'.repeat(300));
    expect(long.length).toBe(MAX_VERSION_NAME);
    expect(long.endsWith('…”')).toBe(true);
  });
});

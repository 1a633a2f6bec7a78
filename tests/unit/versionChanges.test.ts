import { describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { fromBase64UrlEncoded, toBase64UrlEncoded } from 'lib0/buffer';
import { readDeletions } from '../../lib/client/historyApi';
import { compareVersions, deletersFrom, type Change, type Deletion, type Insertion } from '../../lib/client/versionChanges';
import { encodeDeletedRanges, type DeletedRanges } from '../../lib/history/deleteSets';
import { recordAuthor } from '../../lib/documents/authors';
import { BODY_FRAGMENT } from '../../lib/documents/dataModel';
import { setTitle } from '../../lib/documents/title';

const ADA = { name: 'Ada', color: '#d1242f' };
const GRACE = { name: 'Grace', color: '#0969da' };

/** Two people's replicas and the server's (garbage-collected, as the server stores versions). */
class Scene {
  readonly server = new Y.Doc();
  readonly ada = new Y.Doc();
  readonly grace = new Y.Doc();

  constructor() {
    recordAuthor(this.ada, this.ada.clientID, ADA);
    recordAuthor(this.grace, this.grace.clientID, GRACE);
    this.sync();
  }

  /** Everyone gets everything. */
  sync(): void {
    for (const doc of [this.ada, this.grace]) Y.applyUpdate(this.server, Y.encodeStateAsUpdate(doc));
    for (const doc of [this.ada, this.grace]) Y.applyUpdate(doc, Y.encodeStateAsUpdate(this.server));
  }

  /** A version as the server stores it: the whole state of its document then. */
  version(): Uint8Array {
    this.sync();
    return Y.encodeStateAsUpdate(this.server);
  }
}

function body(doc: Y.Doc): Y.XmlFragment {
  return doc.getXmlFragment(BODY_FRAGMENT);
}

function paragraph(text: string): Y.XmlElement {
  const p = new Y.XmlElement('paragraph');
  p.insert(0, [new Y.XmlText(text)]);
  return p;
}

/** The XmlText of the `index`th top-level paragraph. */
function textOf(doc: Y.Doc, index: number): Y.XmlText {
  return (body(doc).get(index) as Y.XmlElement).get(0) as Y.XmlText;
}

function insertions(changes: Change[]): Insertion[] {
  return changes.filter((c): c is Insertion => c.kind === 'inserted');
}

function deletions(changes: Change[]): Deletion[] {
  return changes.filter((c): c is Deletion => c.kind === 'deleted');
}

/** What `edit` deletes in `doc` (one transaction), as the server records per connection. */
function deletedBy(doc: Y.Doc, edit: () => void): DeletedRanges {
  const ranges: DeletedRanges = new Map();
  const record = (tr: Y.Transaction) => {
    for (const [client, items] of tr.deleteSet.clients) ranges.set(client, items.map(({ clock, len }) => ({ clock, len })));
  };
  doc.on('afterTransaction', record);
  doc.transact(edit);
  doc.off('afterTransaction', record);
  return ranges;
}

function docText(result: ReturnType<typeof compareVersions>): string {
  return result.doc.textBetween(0, result.doc.content.size, '\n');
}

describe('compareVersions', () => {
  test('insertions carry their author and positions; deletions show where the text was', () => {
    const scene = new Scene();
    body(scene.ada).insert(0, [paragraph('Hello world'), paragraph('Gone soon'), paragraph('Last')]);
    const v1 = scene.version();

    textOf(scene.grace, 0).insert(5, ' brave'); // "Hello brave world"
    textOf(scene.ada, 0).delete(6, 5); // Ada deletes "world"
    scene.sync();
    body(scene.ada).delete(1, 1); // the paragraph "Gone soon"
    body(scene.grace).insert(2, [paragraph('Grace was here')]);
    const v2 = scene.version();

    const result = compareVersions(v1, v2);
    // Grace added her paragraph before she saw Ada delete "Gone soon": it goes where that was.
    expect(docText(result)).toBe('Hello brave \nGrace was here\nLast');
    expect(result.changes.map((c) => (c.kind === 'inserted' ? ['+', c.text, c.author?.name] : ['-', c.text, c.block]))).toEqual([
      ['+', ' brave', 'Grace'],
      ['-', 'world', false],
      ['-', 'Gone soon', true],
      ['+', 'Grace was here', 'Grace'],
    ]);
    for (const change of insertions(result.changes)) {
      expect(result.doc.textBetween(change.from, change.to)).toBe(change.text);
      expect(change.author?.color).toBe(GRACE.color);
      expect(change.clientId).toBe(scene.grace.clientID);
    }
    const [, world, gone] = result.changes;
    // "world" was after "Hello brave " in the first paragraph (content starts at 1).
    expect(world).toMatchObject({ kind: 'deleted', at: 1 + 'Hello brave '.length });
    // "Gone soon" was between the first paragraph and "Last".
    expect(gone).toMatchObject({ kind: 'deleted', at: result.doc.child(0).nodeSize });
  });

  test('text typed and deleted between the two versions shows as neither', () => {
    const scene = new Scene();
    body(scene.ada).insert(0, [paragraph('Stable')]);
    const v1 = scene.version();
    textOf(scene.grace, 0).insert(6, ' fleeting');
    scene.sync();
    textOf(scene.ada, 0).delete(6, ' fleeting'.length);
    textOf(scene.ada, 0).insert(0, 'Very ');
    const v2 = scene.version();

    const result = compareVersions(v1, v2);
    expect(docText(result)).toBe('Very Stable');
    expect(result.changes).toEqual([{ kind: 'inserted', from: 1, to: 6, text: 'Very ', clientId: scene.ada.clientID, author: ADA }]);
  });

  test('positions count nested blocks and leaf nodes as ProseMirror does', () => {
    const scene = new Scene();
    const list = new Y.XmlElement('bullet_list');
    const item = new Y.XmlElement('list_item');
    item.insert(0, [paragraph('one')]);
    list.insert(0, [item]);
    const heading = new Y.XmlElement('heading');
    heading.setAttribute('level', 1 as unknown as string);
    heading.insert(0, [new Y.XmlText('Title')]);
    body(scene.ada).insert(0, [heading, new Y.XmlElement('horizontal_rule'), list]);
    const v1 = scene.version();
    const listItem = ((body(scene.grace).get(2) as Y.XmlElement).get(0) as Y.XmlElement).get(0) as Y.XmlElement;
    (listItem.get(0) as Y.XmlText).insert(3, ' two');
    body(scene.grace).insert(1, [new Y.XmlElement('horizontal_rule')]);
    const v2 = scene.version();

    const result = compareVersions(v1, v2);
    const blocks: string[] = [];
    result.doc.forEach((node) => blocks.push(node.type.name));
    expect(blocks).toEqual(['heading', 'horizontal_rule', 'horizontal_rule', 'bullet_list']);
    expect(docText(result)).toBe('Title\none two');
    const [rule, two] = insertions(result.changes);
    expect(result.doc.nodeAt(rule!.from)?.type.name).toBe('horizontal_rule');
    expect(rule!.to - rule!.from).toBe(1);
    expect(result.doc.textBetween(two!.from, two!.to)).toBe(' two');
    expect(two!.author).toEqual(GRACE);
  });

  test('the first version is all insertions; an unrecorded author is null', () => {
    const anonymous = new Y.Doc();
    body(anonymous).insert(0, [paragraph('No author map here')]);
    const result = compareVersions(null, Y.encodeStateAsUpdate(anonymous));
    expect(result.changes).toEqual([
      { kind: 'inserted', from: 1, to: 19, text: 'No author map here', clientId: anonymous.clientID, author: null },
    ]);
    expect(result.previousTitle).toBeNull();
  });

  test('an unchanged body has no changes; a changed title reports the previous one', () => {
    const scene = new Scene();
    body(scene.ada).insert(0, [paragraph('Same')]);
    setTitle(scene.ada, 'Draft');
    const v1 = scene.version();
    setTitle(scene.grace, 'Final');
    const v2 = scene.version();
    const result = compareVersions(v1, v2);
    expect(result.changes).toEqual([]);
    expect(result.title).toBe('Final');
    expect(result.previousTitle).toBe('Draft');
    expect(compareVersions(v2, v2).previousTitle).toBeNull();
  });

  test('content deleted before the previous version is not shown again, even when the stored state kept it', () => {
    // A server that stores versions without garbage collection keeps deleted paragraphs whole.
    const kept = new Y.Doc({ gc: false });
    body(kept).insert(0, [paragraph('Long gone'), paragraph('Here')]);
    body(kept).delete(0, 1);
    const v1 = Y.encodeStateAsUpdate(kept);
    textOf(kept, 0).insert(4, '!');
    const result = compareVersions(v1, Y.encodeStateAsUpdate(kept));
    expect(result.changes.map((c) => c.kind)).toEqual(['inserted']);
    expect(docText(result)).toBe('Here!');
  });

  test('content the schema cannot build leaves the changes unplaced rather than misplaced', () => {
    const doc = new Y.Doc();
    body(doc).insert(0, [paragraph('Before')]);
    const v1 = Y.encodeStateAsUpdate(doc);
    // A heading inside a paragraph: y-prosemirror leaves that paragraph out of the document shown.
    const broken = new Y.XmlElement('paragraph');
    const heading = new Y.XmlElement('heading');
    heading.insert(0, [new Y.XmlText('inside')]);
    broken.insert(0, [heading]);
    body(doc).insert(0, [broken]);
    textOf(doc, 1).insert(6, ' after');
    const result = compareVersions(v1, Y.encodeStateAsUpdate(doc));
    expect(docText(result)).toBe('Before after');
    expect(result.unplaced).toBe(true);
    expect(result.changes).toEqual([]);
    expect(compareVersions(null, v1).unplaced).toBe(false);
  });

  test('a deletion in an author’s recorded ranges carries that author; one in nobody’s stays unattributed', () => {
    const scene = new Scene();
    body(scene.ada).insert(0, [paragraph('Keep this word'), paragraph('Drop me'), paragraph('Mystery gone')]);
    const v1 = scene.version();
    const byGrace = deletedBy(scene.grace, () => {
      textOf(scene.grace, 0).delete(4, ' this'.length); // "Keep word"
      body(scene.grace).delete(1, 1); // the paragraph "Drop me"
    });
    scene.sync();
    textOf(scene.ada, 1).delete(0, 'Mystery '.length); // deleted by a connection the server did not record
    const v2 = scene.version();

    const result = compareVersions(v1, v2, deletersFrom([{ author: GRACE, ranges: byGrace }]));
    expect(deletions(result.changes).map((d) => [d.text, d.block, d.deleter])).toEqual([
      [' this', false, GRACE],
      ['Drop me', true, GRACE],
      ['Mystery ', false, null],
    ]);
    // Without a lookup (older versions), every deletion is unattributed, at the same places.
    const plain = compareVersions(v1, v2);
    expect(deletions(plain.changes).map((d) => [d.text, d.at, d.deleter])).toEqual(deletions(result.changes).map((d) => [d.text, d.at, null]));
  });

  test('a run deleted by two people splits into one deletion per deleter', () => {
    const scene = new Scene();
    body(scene.ada).insert(0, [paragraph('one two three four')]);
    const v1 = scene.version();
    // Ada deletes " two", Grace (after seeing it) " three": one contiguous run in the version.
    const byAda = deletedBy(scene.ada, () => textOf(scene.ada, 0).delete(3, ' two'.length));
    scene.sync();
    const byGrace = deletedBy(scene.grace, () => textOf(scene.grace, 0).delete(3, ' three'.length));
    const v2 = scene.version();

    const deleters = deletersFrom([
      { author: ADA, ranges: byAda },
      { author: GRACE, ranges: byGrace },
    ]);
    const result = compareVersions(v1, v2, deleters);
    expect(docText(result)).toBe('one four');
    expect(deletions(result.changes)).toEqual([
      { kind: 'deleted', at: 4, text: ' two', block: false, deleter: ADA },
      { kind: 'deleted', at: 4, text: ' three', block: false, deleter: GRACE },
    ]);
    // Unattributed, the same run stays one deletion.
    expect(deletions(compareVersions(v1, v2).changes)).toEqual([{ kind: 'deleted', at: 4, text: ' two three', block: false, deleter: null }]);
  });

  test('the detail’s deletions decode from base64url; malformed entries are dropped, not fatal', () => {
    const ranges: DeletedRanges = new Map([[7, [{ clock: 2, len: 3 }]]]);
    const encoded = toBase64UrlEncoded(encodeDeletedRanges(ranges));
    expect(fromBase64UrlEncoded(encoded)).toEqual(encodeDeletedRanges(ranges));
    const read = readDeletions(
      [
        { author: GRACE, ranges: encoded },
        { author: { name: 'Eve', color: 'red; background: url(x)' }, ranges: encoded },
        { author: ADA, ranges: 'not base64!' },
        { author: ADA, ranges: toBase64UrlEncoded(new Uint8Array([5])) }, // says 5 clients, holds none
        null,
      ],
      'v1',
    );
    expect(read).toEqual([{ author: GRACE, ranges }]);
    const lookup = deletersFrom(read);
    expect([lookup(7, 1), lookup(7, 2), lookup(7, 4), lookup(7, 5), lookup(8, 3)]).toEqual([null, GRACE, GRACE, null, null]);
    expect(readDeletions(undefined, 'v1')).toEqual([]);
    expect(readDeletions('nope', 'v1')).toEqual([]);
  });
});

import { describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { restoreInto } from '../../lib/history/restoreVersion';
import { BODY_FRAGMENT } from '../../lib/documents/dataModel';
import { readTitle, setTitle } from '../../lib/documents/title';

function paragraphs(doc: Y.Doc, texts: string[]): void {
  const fragment = doc.getXmlFragment(BODY_FRAGMENT);
  fragment.insert(fragment.length, texts.map((text) => {
    const p = new Y.XmlElement('paragraph');
    p.insert(0, [new Y.XmlText(text)]);
    return p;
  }));
}

function bodyTexts(doc: Y.Doc): string[] {
  return doc.getXmlFragment(BODY_FRAGMENT).toArray().map((p) => ((p as Y.XmlElement).get(0) as Y.XmlText | undefined)?.toString() ?? '');
}

describe('restoreInto', () => {
  test('the document takes the version content and title, as a change of the given origin', () => {
    const doc = new Y.Doc();
    paragraphs(doc, ['one', 'two']);
    setTitle(doc, 'Old');
    const version = new Y.Doc();
    Y.applyUpdate(version, Y.encodeStateAsUpdate(doc));
    doc.getXmlFragment(BODY_FRAGMENT).delete(1, 1);
    paragraphs(doc, ['three']);
    setTitle(doc, 'New');
    const origins: unknown[] = [];
    doc.on('afterTransaction', (t: Y.Transaction) => origins.push(t.origin));
    restoreInto(doc, version, 'restore');
    expect(bodyTexts(doc)).toEqual(['one', 'two']);
    expect(readTitle(doc)).toBe('Old');
    expect(origins).toEqual(['restore']);
  });

  test('an offline edit to a paragraph the restore leaves alone survives it', () => {
    const server = new Y.Doc();
    paragraphs(server, ['keep me', 'change me']);
    const version = new Y.Doc();
    Y.applyUpdate(version, Y.encodeStateAsUpdate(server));
    const offline = new Y.Doc();
    Y.applyUpdate(offline, Y.encodeStateAsUpdate(server));
    ((server.getXmlFragment(BODY_FRAGMENT).get(1) as Y.XmlElement).get(0) as Y.XmlText).insert(0, 'please ');
    // The offline replica types into the first paragraph, which the restore keeps.
    ((offline.getXmlFragment(BODY_FRAGMENT).get(0) as Y.XmlElement).get(0) as Y.XmlText).insert(7, ' too');
    restoreInto(server, version);
    expect(bodyTexts(server)).toEqual(['keep me', 'change me']);
    Y.applyUpdate(server, Y.encodeStateAsUpdate(offline));
    Y.applyUpdate(offline, Y.encodeStateAsUpdate(server));
    expect(bodyTexts(server)).toEqual(['keep me too', 'change me']);
    expect(bodyTexts(offline)).toEqual(bodyTexts(server));
  });

  test('undo of the restore brings the newer content back', () => {
    const doc = new Y.Doc();
    paragraphs(doc, ['old']);
    const version = new Y.Doc();
    Y.applyUpdate(version, Y.encodeStateAsUpdate(doc));
    doc.getXmlFragment(BODY_FRAGMENT).delete(0, 1);
    paragraphs(doc, ['newer']);
    const origin = Symbol('restore');
    const undo = new Y.UndoManager([doc.getXmlFragment(BODY_FRAGMENT)], { trackedOrigins: new Set([origin]) });
    restoreInto(doc, version, origin);
    expect(bodyTexts(doc)).toEqual(['old']);
    undo.undo();
    expect(bodyTexts(doc)).toEqual(['newer']);
  });
});

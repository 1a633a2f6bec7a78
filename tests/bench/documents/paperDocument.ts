/**
 * The automerge-paper editing trace (259,778 single-character edits) as a Concord document: the
 * body holds one paragraph whose text receives every edit, one Yjs update per edit; the title is
 * set last. The editor shows it (the text's newlines stay inside the paragraph).
 */
import * as Y from 'yjs';
import { BODY_FRAGMENT } from '../../../lib/documents/dataModel';
import { setTitle } from '../../../lib/documents/title';
import { loadTrace } from '../../support/traces';

export const PAPER_TITLE = 'automerge-paper';

export interface PaperDocument {
  /** One update per edit: the empty paragraph first, the title last. */
  updates: Uint8Array[];
  /** The Yjs client that made every update, and its clock after the last one. */
  clientId: number;
  finalClock: number;
  /** The paragraph's text at the end (the trace's end content). */
  endText: string;
  /** Byte size of the whole document's Yjs state (encodeStateAsUpdate). */
  stateBytes: number;
}

/** The body paragraph's text of a Concord document built from `paperDocument()`. */
export function paperText(doc: Y.Doc): string | null {
  const paragraph = doc.getXmlFragment(BODY_FRAGMENT).get(0);
  if (!(paragraph instanceof Y.XmlElement)) return null;
  const text = paragraph.get(0);
  return text instanceof Y.XmlText ? text.toString() : null;
}

export function paperDocument(): PaperDocument {
  const trace = loadTrace('automerge-paper');
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  const text = new Y.XmlText();
  const paragraph = new Y.XmlElement('paragraph');
  paragraph.insert(0, [text]);
  doc.getXmlFragment(BODY_FRAGMENT).insert(0, [paragraph]);
  if (trace.startContent) text.insert(0, trace.startContent);
  for (const txn of trace.txns) {
    doc.transact(() => {
      for (const [pos, del, ins] of txn.patches) {
        if (del > 0) text.delete(pos, del);
        if (ins) text.insert(pos, ins);
      }
    });
  }
  // Last, and one update: a reader that has it has everything before it (updates arrive in order).
  setTitle(doc, PAPER_TITLE, { now: 0 });
  if (text.toString() !== trace.endContent) throw new Error('replaying automerge-paper did not reach its end content');
  return {
    updates,
    clientId: doc.clientID,
    finalClock: Y.getState(doc.store, doc.clientID),
    endText: trace.endContent,
    stateBytes: Y.encodeStateAsUpdate(doc).byteLength,
  };
}

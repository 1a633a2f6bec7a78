'use client';

import { useEffect, useRef } from 'react';
import { EditorState } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import { schema } from '../../../lib/editor/schema';
import { collaborativePlugins } from '../../../lib/editor/plugins';
import { showNewChanges } from '../../../lib/editor/authorship';
import type { DocumentSession } from '../../../lib/client/DocumentSession';

interface Props {
  session: DocumentSession;
  editable: boolean;
  onReady(view: EditorView): void;
  onChange(state: EditorState): void;
}

/**
 * Mounts ProseMirror bound to the session's Y.XmlFragment; ProseMirror owns this DOM subtree.
 * Never bound to a document that records a newer schema: y-prosemirror would delete, for
 * everyone, every element this schema cannot map (issue #15).
 */
export default function ProseMirrorView({ session, editable, onReady, onChange }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const editableRef = useRef(editable);
  editableRef.current = editable;
  const callbacks = useRef({ onReady, onChange });
  callbacks.current = { onReady, onChange };

  useEffect(() => {
    if (!host.current || session.schemaOutdated) return;
    const view = new EditorView(host.current, {
      state: EditorState.create({ schema, plugins: collaborativePlugins(session.fragment, session.provider.awareness) }),
      editable: () => editableRef.current,
      attributes: { 'aria-label': 'Document body', 'aria-multiline': 'true', role: 'textbox', spellcheck: 'true' },
      // `this`, not `view`: y-prosemirror dispatches while the view is still being constructed.
      dispatchTransaction(this: EditorView, tr) {
        const next = this.state.apply(tr);
        this.updateState(next);
        callbacks.current.onChange(next);
      },
    });
    callbacks.current.onReady(view);
    callbacks.current.onChange(view.state);
    // "See new changes": the session says what is new, the authorship plugin highlights it.
    const showSeen = () => {
      if (!view.isDestroyed) showNewChanges(view, session.seenChanges.range);
    };
    showSeen();
    const stopSeen = session.seenChanges.subscribe(showSeen);
    // Synchronously, inside the Yjs transaction that brought the newer schema's record: the
    // session's observer runs before y-prosemirror's, which destroying the view unregisters.
    const unsubscribe = session.subscribe(() => {
      if (session.schemaOutdated) view.destroy();
    });
    return () => {
      stopSeen();
      unsubscribe();
      view.destroy();
    };
  }, [session]);

  return <div ref={host} className="prosemirror-host" data-testid="editor" />;
}

'use client';

import dynamic from 'next/dynamic';

// The editor only runs in the browser: server-rendering it would load a second copy of Yjs.
const DocumentEditor = dynamic(() => import('./editor/DocumentEditor'), {
  ssr: false,
  loading: () => (
    <div className="editor-loading" data-testid="editor-loading">
      Loading the editor…
    </div>
  ),
});

export default function EditorLoader({ docId }: { docId: string }) {
  return <DocumentEditor docId={docId} />;
}

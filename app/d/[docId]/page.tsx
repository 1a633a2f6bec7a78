import type { Metadata } from 'next';
import Link from 'next/link';
import { describeBadDocId, isDocId } from '../../../lib/ids';
import EditorLoader from '../../_components/EditorLoader';

export const metadata: Metadata = { title: 'Concord' };

export default async function DocumentPage({ params }: { params: Promise<{ docId: string }> }) {
  const { docId } = await params;
  // The server answers malformed IDs with a 400 page before this runs; this is a second guard.
  if (!isDocId(docId)) {
    return (
      <main className="message-page">
        <div className="message-card" data-testid="error-page">
          <p className="message-status">Error 400</p>
          <h1>This link does not point to a document</h1>
          <p>{describeBadDocId(docId)}</p>
          <p>
            <Link href="/">Go to Concord&apos;s start page</Link>
          </p>
        </div>
      </main>
    );
  }
  return <EditorLoader docId={docId} />;
}

'use client';

import { useEffect, useRef, useState } from 'react';
import type * as Y from 'yjs';
import { capabilitiesFromOwner, type Role } from '../../../lib/auth/capabilities';
import { copyText } from '../../../lib/client/clipboard';
import { downloadDocument } from '../../../lib/client/downloadFile';
import type { ExportFormat } from '../../../lib/documents/exportDocument';
import { shareLink } from '../../../lib/client/shareLinks';

interface Links {
  editUrl: string;
  viewUrl: string;
}

interface Props {
  docId: string;
  token: string;
  role: Role;
  /** This tab's replica: downloads are made from it, with no request carrying the token. */
  doc: Y.Doc;
  onClose(): void;
}

const FORMAT_LABELS: Record<ExportFormat, string> = { md: 'Markdown', txt: 'Text', html: 'HTML' };

async function api(path: string, token: string, init: RequestInit = {}): Promise<Response> {
  return fetch(path, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } });
}

async function errorText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    return body.error?.message ?? `The server answered ${res.status}.`;
  } catch {
    // Not JSON: fall back to the status.
    return `The server answered ${res.status}.`;
  }
}

function CopyField({ label, copyLabel, value, testId }: { label: string; copyLabel: string; value: string; testId: string }) {
  const [feedback, setFeedback] = useState<string | null>(null);
  const field = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!feedback) return;
    const timer = setTimeout(() => setFeedback(null), 2500);
    return () => clearTimeout(timer);
  }, [feedback]);

  function copy() {
    copyText(value).then(
      () => setFeedback('Copied'),
      (err: unknown) => {
        console.warn('concord: could not copy the link', err);
        // Leave the link selected so the person can copy it by hand.
        field.current?.select();
        setFeedback(`Press ${/Mac/.test(navigator.platform) ? '⌘' : 'Ctrl+'}C to copy`);
      },
    );
  }

  return (
    <div className="copy-field">
      <label>
        <span>{label}</span>
        <input ref={field} readOnly value={value} data-testid={testId} onFocus={(e) => e.target.select()} />
      </label>
      <button type="button" className="button" aria-label={copyLabel} onClick={copy} data-testid={`${testId}-copy`}>
        Copy link
      </button>
      <span className="copy-feedback" role="status" aria-live="polite">
        {feedback}
      </span>
    </div>
  );
}

/** Sharing: copy links and download; with the owner link, rotate links and delete the document. */
export default function SharePanel({ docId, token, role, doc, onClose }: Props) {
  const origin = window.location.origin;
  const [links, setLinks] = useState<Links | null>(() => {
    if (role !== 'owner') return null;
    // Offline-capable default: the chain-derived links; the server corrects them if rotated.
    const caps = capabilitiesFromOwner(token);
    return { editUrl: shareLink(origin, docId, caps.edit), viewUrl: shareLink(origin, docId, caps.view) };
  });
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    if (role !== 'owner') return;
    api(`/api/docs/${docId}`, token)
      .then(async (res) => {
        if (res.ok) setLinks((await res.json()) as Links);
      })
      .catch((err: unknown) => console.warn('concord: could not fetch current links (offline?)', err));
  }, [docId, token, role]);

  async function rotate(which: 'edit' | 'view') {
    setBusy(true);
    setMessage(null);
    try {
      const res = await api(`/api/docs/${docId}/rotate`, token, { method: 'POST', body: JSON.stringify({ [which]: true }) });
      if (!res.ok) throw new Error(await errorText(res));
      setLinks((await res.json()) as Links);
      setMessage(`New ${which} link created. The old one no longer works.`);
    } catch (err) {
      setMessage(`Could not replace the link: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!window.confirm('Delete this document for everyone? This cannot be undone.')) return;
    setBusy(true);
    try {
      const res = await api(`/api/docs/${docId}`, token, { method: 'DELETE' });
      if (!res.ok) throw new Error(await errorText(res));
      setMessage('The document was deleted.');
    } catch (err) {
      setMessage(`Could not delete: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="share-panel" role="dialog" aria-label="Share" data-testid="share-panel">
      <div className="share-header">
        <h2>Share</h2>
        <button type="button" className="link-button" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </div>
      {links ? (
        <>
          <CopyField label="Edit link — anyone with it can edit" copyLabel="Copy edit link" value={links.editUrl} testId="edit-link" />
          <CopyField label="View link — read only" copyLabel="Copy view link" value={links.viewUrl} testId="view-link" />
          <div className="share-actions">
            <button type="button" className="button" disabled={busy} onClick={() => rotate('edit')}>
              Replace edit link
            </button>
            <button type="button" className="button" disabled={busy} onClick={() => rotate('view')}>
              Replace view link
            </button>
            <button type="button" className="button danger" disabled={busy} onClick={remove}>
              Delete document
            </button>
          </div>
          <p className="muted small">Keep this page&apos;s own link private: it is the owner link.</p>
        </>
      ) : (
        <CopyField
          label={role === 'edit' ? 'Edit link' : 'View link'}
          copyLabel={role === 'edit' ? 'Copy edit link' : 'Copy view link'}
          value={shareLink(origin, docId, token)}
          testId="own-link"
        />
      )}
      <div className="share-exports">
        <span>Download:</span>
        {(['md', 'txt', 'html'] as const satisfies readonly ExportFormat[]).map((format) => (
          <button key={format} type="button" className="link-button" onClick={() => downloadDocument(doc, format)} data-testid={`download-${format}`}>
            {FORMAT_LABELS[format]}
          </button>
        ))}
      </div>
      {message && (
        <p className="share-message" role="status">
          {message}
        </p>
      )}
    </div>
  );
}

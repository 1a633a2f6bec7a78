/**
 * Downloads made in the browser from this tab's replica: the share panel's Markdown / text /
 * HTML links and "Download your copy". No request is made, so they work offline, include edits
 * the server has not stored yet, and never put the capability in a URL that a proxy, a server
 * log or the browser history would keep (issue #11, item 3).
 */
import type * as Y from 'yjs';
import { exportDocument, type ExportFormat } from '../documents/exportDocument';

/**
 * How long the object URL outlives the click. The browser reads the Blob after click() returns,
 * and some (Firefox, older Safari) fail the download if the URL is revoked at once.
 */
const REVOKE_AFTER_MS = 60_000;

/** Saves `body` as a file named `fileName`, through a Blob URL and a temporary <a download>. */
export function downloadFile(body: string, contentType: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([body], { type: contentType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}

/** Saves the document as it is in this replica, in `format`. */
export function downloadDocument(doc: Y.Doc, format: ExportFormat): void {
  const exported = exportDocument(doc, format);
  downloadFile(exported.body, exported.contentType, exported.fileName);
}

/**
 * Exports a Concord document (the Yjs data model) as plain text, Markdown or standalone HTML.
 * Pure: runs on the server for the export API and in the browser for "download my copy".
 *
 * Reading never writes: the body is read with `readBody`, which opens no transaction, so an
 * export leaves the document byte-identical, content the schema does not know included. And no
 * format carries active content: links follow the editor's policy (`exportableBody`), and text
 * and title are escaped for the format (issue #15, items 5 and 6).
 */
import type * as Y from 'yjs';
import { BODY_FRAGMENT, UNTITLED } from './dataModel';
import { exportableBody } from './exportPolicy';
import { readBody } from './readBody';
import { escapeHtml, fragmentToHtml } from './toHtml';
import { readTitle } from './title';
import { markdownTitle, toMarkdown } from './toMarkdown';

import type { ExportFormat } from './exportFormats';

export { EXPORT_FORMATS, isExportFormat, type ExportFormat } from './exportFormats';

export interface ExportedDocument {
  body: string;
  contentType: string;
  /** A safe file name, e.g. "Meeting notes.md". */
  fileName: string;
}

/**
 * The title shown (during a title conflict, the candidate every replica shows) as one line: a
 * title is a heading, and a line break in it could start a block.
 */
export function documentTitle(doc: Y.Doc): string {
  return readTitle(doc).replace(/\s+/g, ' ').trim();
}

export function exportDocument(doc: Y.Doc, format: ExportFormat): ExportedDocument {
  const title = documentTitle(doc);
  const body = exportableBody(readBody(doc.getXmlFragment(BODY_FRAGMENT)));
  const fileName = `${safeFileName(title || UNTITLED)}.${format}`;
  switch (format) {
    case 'txt': {
      const text = body.textBetween(0, body.content.size, '\n', (leaf) => (leaf.type.name === 'horizontal_rule' ? '---' : '\n'));
      return { body: joinTitle(title, text, (t) => t), contentType: 'text/plain; charset=utf-8', fileName };
    }
    case 'md': {
      return { body: joinTitle(title, toMarkdown(body), markdownTitle), contentType: 'text/markdown; charset=utf-8', fileName };
    }
    case 'html': {
      const heading = title ? `<h1>${escapeHtml(title)}</h1>\n` : '';
      const html =
        // The file is opened from disk, where our server's CSP header does not follow it.
        `<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="${HTML_EXPORT_CSP}">\n<title>${escapeHtml(title || UNTITLED)}</title>\n</head>\n` +
        `<body>\n${heading}${fragmentToHtml(body)}\n</body>\n</html>\n`;
      return { body: html, contentType: 'text/html; charset=utf-8', fileName };
    }
  }
}

/** Nothing in an exported page may run or load: its own inline styles at most. */
const HTML_EXPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'";

function joinTitle(title: string, body: string, formatTitle: (t: string) => string): string {
  const trimmed = body.replace(/\s+$/, '');
  if (!title) return `${trimmed}\n`;
  return trimmed ? `${formatTitle(title)}\n\n${trimmed}\n` : `${formatTitle(title)}\n`;
}

function safeFileName(title: string): string {
  const cleaned = title.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, ' ').replace(/\s+/g, ' ').trim();
  return (cleaned || UNTITLED).slice(0, 100);
}

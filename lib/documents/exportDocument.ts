/**
 * Exports a Concord document (the Yjs data model) as plain text, Markdown or standalone HTML.
 * Pure: runs on the server for the export API and in the browser for "download my copy".
 *
 * Reading never writes: the body is read with `readBody`, which opens no transaction, so an
 * export leaves the document byte-identical, content the schema does not know included (issue
 * #15, item 6).
 */
import type * as Y from 'yjs';
import { defaultMarkdownSerializer } from 'prosemirror-markdown';
import { BODY_FRAGMENT, TITLE_TEXT, UNTITLED } from './dataModel';
import { readBody } from './readBody';
import { escapeHtml, fragmentToHtml } from './toHtml';

export const EXPORT_FORMATS = ['txt', 'md', 'html'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(value: unknown): value is ExportFormat {
  return typeof value === 'string' && (EXPORT_FORMATS as readonly string[]).includes(value);
}

export interface ExportedDocument {
  body: string;
  contentType: string;
  /** A safe file name, e.g. "Meeting notes.md". */
  fileName: string;
}

export function documentTitle(doc: Y.Doc): string {
  return doc.getText(TITLE_TEXT).toString().trim();
}

export function exportDocument(doc: Y.Doc, format: ExportFormat): ExportedDocument {
  const title = documentTitle(doc);
  const body = readBody(doc.getXmlFragment(BODY_FRAGMENT));
  const fileName = `${safeFileName(title || UNTITLED)}.${format}`;
  switch (format) {
    case 'txt': {
      const text = body.textBetween(0, body.content.size, '\n', (leaf) => (leaf.type.name === 'horizontal_rule' ? '---' : '\n'));
      return { body: joinTitle(title, text, (t) => t), contentType: 'text/plain; charset=utf-8', fileName };
    }
    case 'md': {
      const markdown = defaultMarkdownSerializer.serialize(body);
      return { body: joinTitle(title, markdown, (t) => `# ${t}`), contentType: 'text/markdown; charset=utf-8', fileName };
    }
    case 'html': {
      const heading = title ? `<h1>${escapeHtml(title)}</h1>\n` : '';
      const html =
        `<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>${escapeHtml(title || UNTITLED)}</title>\n</head>\n` +
        `<body>\n${heading}${fragmentToHtml(body)}\n</body>\n</html>\n`;
      return { body: html, contentType: 'text/html; charset=utf-8', fileName };
    }
  }
}

function joinTitle(title: string, body: string, formatTitle: (t: string) => string): string {
  const trimmed = body.replace(/\s+$/, '');
  if (!title) return `${trimmed}\n`;
  return trimmed ? `${formatTitle(title)}\n\n${trimmed}\n` : `${formatTitle(title)}\n`;
}

function safeFileName(title: string): string {
  const cleaned = title.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, ' ').replace(/\s+/g, ' ').trim();
  return (cleaned || UNTITLED).slice(0, 100);
}

/**
 * The export formats, apart from the exporters themselves: the server checks a request's format
 * with this alone and loads the exporters (Markdown and HTML serialisers) only when a document is
 * exported, so an idle relay does not hold them.
 */
export const EXPORT_FORMATS = ['txt', 'md', 'html'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(value: unknown): value is ExportFormat {
  return typeof value === 'string' && (EXPORT_FORMATS as readonly string[]).includes(value);
}

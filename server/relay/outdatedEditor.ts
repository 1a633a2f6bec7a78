import type { RoomConnection } from './RoomConnection';

/** The close reason sent with CloseCode.editorOutdated. */
export const EDITOR_OUTDATED_REASON = 'editor outdated: reload';

/** An editor that declared a schema older than the document's; stock clients declare none. */
export function isOutdatedEditor(conn: RoomConnection, recorded: number | null): boolean {
  return recorded !== null && conn.schemaVersion != null && conn.schemaVersion < recorded;
}

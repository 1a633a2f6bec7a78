/** What the SQL adapters share in reading their `documents` and blob rows (same columns in each). */
import type { DocumentInfo } from './DocumentStore';

/** A `documents` row; timestamps are numbers in SQLite, Dates in PostgreSQL. */
export interface DocumentRowOf<Time> {
  id: string;
  created_at: Time;
  edit_epoch: number;
  edit_verifier: string | null;
  view_epoch: number;
  view_verifier: string | null;
  deleted_at: Time | null;
}

export function documentInfoOf(row: DocumentRowOf<number | Date>): DocumentInfo {
  return {
    id: row.id,
    createdAt: new Date(row.created_at),
    access: {
      editEpoch: row.edit_epoch,
      editVerifier: row.edit_verifier,
      viewEpoch: row.view_epoch,
      viewVerifier: row.view_verifier,
      deleted: row.deleted_at !== null,
    },
  };
}

/** A driver's Buffer as the Uint8Array the store hands out, without copying. */
export function bytesOf(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

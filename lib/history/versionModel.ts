/**
 * The version history of a document, as the server stores and replicates it (issue #16).
 *
 * A document's versions live in a second Yjs document, its *history document*, whose ID is
 * derived from the document's (so it replicates between instances and regions, is stored,
 * backlogged and caught up by exactly the machinery that carries documents, with no second
 * protocol). Nobody can hold a link to it: a document ID is a hash of its view link, and no
 * link hashes to a history ID. Its Y.Map `versions` holds one record per version, keyed by the
 * version's random ID, written once by the server that recorded it and deleted by retention.
 *
 * A record's content is stored as a Yjs update: either a *keyframe* (the document's whole state
 * then) or a diff from an earlier version of the same chain (`base`): the structs added since
 * plus the delete set. Rebuilding a version merges its chain back to the keyframe. The live
 * document keeps garbage collection on; each version keeps exactly what was visible in it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toBase64UrlEncoded } from 'lib0/buffer';
import * as Y from 'yjs';
import { DOC_ID_LENGTH } from '../ids';
import type { Author } from '../documents/authors';

export const VERSIONS_MAP = 'versions';

export type VersionKind = 'auto' | 'named';

/** What one entry of `versions` holds (a plain value: written once, never edited in place). */
export interface VersionRecord {
  id: string;
  kind: VersionKind;
  /** Given by a person ("Name this version"); null for automatic versions. */
  name: string | null;
  /** When it was made, ms since epoch (the recording server's clock). */
  createdAt: number;
  /** The region that recorded it (null without regions). */
  region: string | null;
  /** Who edited since the previous version (as far as the recording server could tell). */
  authors: Author[];
  /**
   * A random ID of the server process that recorded it: a diff is only ever taken from a version
   * the same process recorded, whose document it knows to contain everything that version had.
   */
  recorder: string;
  /** The version this one's `update` is a diff from; null when `update` is a keyframe. */
  base: string | null;
  /** State vector of the document at this version. */
  stateVector: Uint8Array;
  /** A keyframe (whole state) or the diff from `base`'s state vector. */
  update: Uint8Array;
  /**
   * Who deleted what since the version before, as far as the recording server saw it (its own
   * clients' changes): per person, the deleted Yjs items (lib/history/deleteSets.ts encoding).
   */
  deletions?: Deletions[];
}

/** The items one person deleted (encodeDeletedRanges). */
export interface Deletions {
  author: Author;
  ranges: Uint8Array;
}

/** A version as the API lists it. */
export interface VersionSummary {
  id: string;
  kind: VersionKind;
  name: string | null;
  createdAt: string;
  region: string | null;
  authors: Author[];
}

const encoder = new TextEncoder();

/** The history document's ID for document `docId`. */
export function historyDocId(docId: string): string {
  const digest = sha256(encoder.encode(`concord/history/v1\0${docId}`));
  return toBase64UrlEncoded(digest).slice(0, DOC_ID_LENGTH);
}

export function versionsMap(history: Y.Doc): Y.Map<unknown> {
  return history.getMap(VERSIONS_MAP);
}

/** Every well-formed record, oldest first (ties broken by ID, so every replica lists alike). */
export function listVersions(history: Y.Doc): VersionRecord[] {
  const records: VersionRecord[] = [];
  for (const value of versionsMap(history).values()) {
    const record = asVersionRecord(value);
    if (record) records.push(record);
  }
  return records.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function getVersion(history: Y.Doc, versionId: string): VersionRecord | null {
  return asVersionRecord(versionsMap(history).get(versionId));
}

export function summarise(record: VersionRecord): VersionSummary {
  return {
    id: record.id,
    kind: record.kind,
    name: record.name,
    createdAt: new Date(record.createdAt).toISOString(),
    region: record.region,
    authors: record.authors,
  };
}

/**
 * The version's content as one Yjs update (merged along its chain). Null when a record of its
 * chain is missing (never expected: retention deletes a chain's records only with the versions
 * that need them).
 */
export function versionUpdate(history: Y.Doc, record: VersionRecord): Uint8Array | null {
  const chain: Uint8Array[] = [record.update];
  const seen = new Set([record.id]);
  for (let base = record.base; base !== null; ) {
    if (seen.has(base)) return null;
    seen.add(base);
    const link = getVersion(history, base);
    if (!link) return null;
    chain.push(link.update);
    base = link.base;
  }
  return chain.length === 1 ? record.update : Y.mergeUpdates(chain.reverse());
}

/** The version's content as a fresh document (gc off, so a later state applied over it keeps deleted text). */
export function versionDoc(history: Y.Doc, record: VersionRecord, options: { gc?: boolean } = {}): Y.Doc | null {
  const update = versionUpdate(history, record);
  if (!update) return null;
  const doc = new Y.Doc({ gc: options.gc ?? true });
  Y.applyUpdate(doc, update);
  return doc;
}

/** Links in the chain from `record` back to its keyframe (1 for a keyframe). */
export function chainLength(history: Y.Doc, record: VersionRecord): number {
  let length = 1;
  for (let base = record.base; base !== null && length < 10_000; length++) base = getVersion(history, base)?.base ?? null;
  return length;
}

function asVersionRecord(value: unknown): VersionRecord | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Partial<VersionRecord>;
  if (typeof r.id !== 'string' || (r.kind !== 'auto' && r.kind !== 'named')) return null;
  if (r.name !== null && typeof r.name !== 'string') return null;
  if (typeof r.createdAt !== 'number' || !Number.isFinite(r.createdAt)) return null;
  if (r.region !== null && typeof r.region !== 'string') return null;
  if (!Array.isArray(r.authors) || (r.base !== null && typeof r.base !== 'string') || typeof r.recorder !== 'string') return null;
  if (!(r.stateVector instanceof Uint8Array) || !(r.update instanceof Uint8Array)) return null;
  // Older records have none; a malformed list is dropped, the version kept.
  if (r.deletions !== undefined && !(Array.isArray(r.deletions) && r.deletions.every((d) => typeof d === 'object' && d !== null && d.ranges instanceof Uint8Array && typeof d.author?.name === 'string'))) {
    return { ...(r as VersionRecord), deletions: [] };
  }
  return r as VersionRecord;
}

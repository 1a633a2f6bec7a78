/**
 * "See new changes" (issue #16, item 5): what this browser last showed of a document, as a Yjs
 * state vector kept in localStorage, and which text of others is new against it. Pure: the
 * session (SeenChanges.ts) feeds it events.
 *
 * The rule: a change is *seen* when it arrives while the document is open, visible and live
 * (typed here, or relayed while the connection is synced). A change that arrives in a catch-up
 * — the local replica loading, the server's answer when a connection (re)starts, or while the
 * tab was hidden — is *new*: when a catch-up brings text of others past what was seen, it is
 * highlighted until dismissed (or until the person has been editing for a while), and what was
 * seen stays where it was meanwhile, so a reload still shows it. Clocks only grow per client,
 * so "new" is the clocks [seen, caught-up) of every client that is not this browser's.
 */
import type { KeyValueStorage } from './browserStorage';
import { maxStateVector, type NewChangesRange, type StateVector } from '../editor/authorshipRuns';

const KEY_PREFIX = 'concord:last-seen:';
const FORMAT = 1;
/** This browser's client IDs kept per document (each page load uses a new one). */
const MAX_OWN_CLIENTS = 50;
/** Editing this long while new changes are highlighted counts as having looked at them. */
export const EDITING_CLEARS_AFTER_MS = 15_000;

export interface LastSeenRecord {
  /** What this browser last showed. */
  seen: StateVector;
  /** Client IDs this browser used for the document, oldest first: never "new" here. */
  own: readonly number[];
}

export function lastSeenKey(docId: string): string {
  return KEY_PREFIX + docId;
}

export function readLastSeen(storage: KeyValueStorage, docId: string): LastSeenRecord | null {
  const raw = storage.getItem(lastSeenKey(docId));
  if (raw === null) return null;
  try {
    const parsed = JSON.parse(raw) as { v?: unknown; seen?: unknown; own?: unknown };
    if (parsed.v !== FORMAT || !Array.isArray(parsed.seen) || !Array.isArray(parsed.own)) throw new Error('unknown format');
    const seen = new Map<number, number>();
    for (const entry of parsed.seen as unknown[]) {
      if (!Array.isArray(entry) || !entry.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) throw new Error('bad entry');
      seen.set(entry[0] as number, entry[1] as number);
    }
    const own = (parsed.own as unknown[]).filter((n): n is number => Number.isSafeInteger(n));
    return { seen, own };
  } catch (err) {
    console.warn('concord: ignoring an unreadable last-seen record', err);
    return null;
  }
}

export function writeLastSeen(storage: KeyValueStorage, docId: string, record: LastSeenRecord): void {
  storage.setItem(lastSeenKey(docId), JSON.stringify({ v: FORMAT, seen: [...record.seen], own: record.own }));
}

/** What the bar says about the highlighted changes. */
export interface NewChangesSummary {
  /** Runs of new text. */
  count: number;
  /** Their authors' names, in document order, each once. */
  authors: string[];
}

/** "3 changes by Ada and Bo since you last looked". */
export function describeNewChanges({ count, authors }: NewChangesSummary): string {
  return `${count} ${count === 1 ? 'change' : 'changes'} by ${listNames(authors)} since you last looked`;
}

function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? 'someone';
  if (names.length > 3) return `${names.slice(0, 2).join(', ')} and ${names.length - 2} others`;
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * The state of "See new changes" for one open document. `hasNew(range)` says whether a range
 * holds any body text (only text is highlighted; a catch-up that brings only a title or an
 * author's entry has nothing to show and counts as seen).
 */
export class LastSeenModel {
  private seen: Map<number, number> | null;
  private readonly own: number[];
  /** Set while new changes are highlighted: the state the catch-up brought. */
  private until: Map<number, number> | null = null;
  private editingSince: number | null = null;

  constructor(
    record: LastSeenRecord | null,
    private readonly hasNew: (range: NewChangesRange) => boolean,
  ) {
    this.seen = record ? new Map(record.seen) : null;
    this.own = record ? [...record.own] : [];
  }

  /** The new changes to highlight, or null. */
  get range(): NewChangesRange | null {
    if (!this.until || !this.seen) return null;
    return { since: this.seen, until: this.until, exclude: new Set(this.own) };
  }

  /** What to store; null before the first visit completed (nothing was shown yet). */
  get record(): LastSeenRecord | null {
    return this.seen ? { seen: this.seen, own: this.own } : null;
  }

  /** A client ID this browser writes with (a new one every page load). */
  addOwnClient(client: number): void {
    if (this.own.includes(client)) return;
    this.own.push(client);
    if (this.own.length > MAX_OWN_CLIENTS) this.own.splice(0, this.own.length - MAX_OWN_CLIENTS);
  }

  /**
   * A catch-up completed and the document is at `current`. On a first visit nothing is new: the
   * server's state becomes what was seen (the local replica alone may be empty or old).
   */
  caughtUp(current: StateVector, fromServer: boolean): void {
    if (!this.seen) {
      if (fromServer) this.seen = new Map(current);
      return;
    }
    const range: NewChangesRange = { since: this.seen, until: current, exclude: new Set(this.own) };
    if (this.hasNew(range)) {
      this.until = new Map(current);
    } else {
      this.until = null;
      this.editingSince = null;
      this.seen = maxStateVector(this.seen, current);
    }
  }

  /** The document reached `current` with a change the person saw arrive. */
  seenLive(current: StateVector): void {
    if (this.seen && !this.until) this.seen = maxStateVector(this.seen, current);
  }

  /** The person edited at `now` (ms); after a while of editing, new changes count as looked at. */
  edited(current: StateVector, now: number): void {
    if (!this.until) return;
    this.editingSince ??= now;
    if (now - this.editingSince >= EDITING_CLEARS_AFTER_MS) this.dismiss(current);
  }

  /** The person dismissed the highlight: everything up to `current` is seen. */
  dismiss(current: StateVector): void {
    this.until = null;
    this.editingSince = null;
    this.seen = this.seen ? maxStateVector(this.seen, current) : new Map(current);
  }
}

/**
 * What the status line says, derived from facts about the connection. Pure, so every case is
 * unit-tested: the session turns provider and browser events into `ConnectionEvent`s, folds them
 * with `applyConnectionEvent`, and shows `describeConnection` of the result.
 */
import { CloseCode, describeCloseCode, isPermanentRefusal } from '../protocol/closeCodes';

export type ConnectionStatus = 'connecting' | 'saving' | 'saved' | 'offline' | 'refused' | 'outdated';

export interface ConnectionFacts {
  /** The browser says it has a network. */
  online: boolean;
  /** The provider's socket state. */
  socket: 'connecting' | 'connected' | 'disconnected';
  /** The initial sync with the server completed on the current socket. */
  synced: boolean;
  /** A socket closed since the last successful sync: the server is not reachable right now. */
  unreachable: boolean;
  /** Local edits the server has not confirmed as stored (SaveTracker). */
  unsaved: number;
  /** The server refused us for good (close code 4400–4499). */
  refusal: { code: number; reason: string } | null;
  /**
   * The document records a newer editor schema than ours (seen in the replica, or the relay closed
   * with 4427): this editor must not edit it until the page is reloaded.
   */
  outdated: boolean;
}

export interface StatusView {
  status: ConnectionStatus;
  text: string;
}

/** Everything that can change the connection facts. */
export type ConnectionEvent =
  /** y-websocket `status`; `providerSynced` is the provider's own `synced` flag at that moment. */
  | { type: 'socket'; status: ConnectionFacts['socket']; providerSynced: boolean }
  /** y-websocket `sync`. */
  | { type: 'sync'; synced: boolean }
  /** The server closed the socket (y-websocket `connection-close` / `closed`). */
  | { type: 'closed'; code: number; reason: string }
  /** window `online` / `offline`. */
  | { type: 'network'; online: boolean }
  /** The number of unsaved local edits changed. */
  | { type: 'unsaved'; count: number }
  /** The replica records a newer editor schema than this one's (lib/documents/schemaVersion.ts). */
  | { type: 'outdated' };

export const INITIAL_FACTS: ConnectionFacts = {
  online: true,
  socket: 'connecting',
  synced: false,
  unreachable: false,
  unsaved: 0,
  refusal: null,
  outdated: false,
};

export function applyConnectionEvent(facts: ConnectionFacts, event: ConnectionEvent): ConnectionFacts {
  switch (event.type) {
    case 'socket': {
      // A new socket must sync again before we claim anything; a stale flag from the last one lies.
      const synced = event.status === 'connected' ? event.providerSynced : false;
      return { ...facts, socket: event.status, synced, unreachable: facts.unreachable || event.status === 'disconnected' };
    }
    case 'sync':
      return { ...facts, synced: event.synced, unreachable: event.synced ? false : facts.unreachable };
    case 'closed':
      // Transient closes just reconnect; only permanent refusals stick (and stop reconnection).
      if (!isPermanentRefusal(event.code)) return facts;
      return { ...facts, refusal: { code: event.code, reason: event.reason }, synced: false, outdated: facts.outdated || event.code === CloseCode.editorOutdated };
    case 'network':
      return { ...facts, online: event.online, synced: event.online ? facts.synced : false };
    case 'unsaved':
      return { ...facts, unsaved: event.count };
    case 'outdated':
      return { ...facts, outdated: true };
  }
}

/** Whether the session should (re)open its socket now. */
export function shouldConnect(facts: ConnectionFacts): boolean {
  return facts.online && facts.refusal === null;
}

/** "1 edit", "12 edits". */
function edits(count: number): string {
  return `${count.toLocaleString('en')} ${count === 1 ? 'edit' : 'edits'}`;
}

function keptHere(count: number): string {
  return `${edits(count)} kept on this device, not yet saved`;
}

export function describeConnection(facts: ConnectionFacts): StatusView {
  const { unsaved } = facts;
  // Before a refusal: the relay's 4427 says the same, and reloading (not forgetting) is the way out.
  if (facts.outdated) return { status: 'outdated', text: describeCloseCode(CloseCode.editorOutdated) };
  if (facts.refusal) return { status: 'refused', text: describeCloseCode(facts.refusal.code) };
  if (!facts.online) {
    return { status: 'offline', text: unsaved > 0 ? `Offline — ${keptHere(unsaved)}` : 'Offline — all changes saved; new edits stay on this device' };
  }
  if (facts.socket === 'connected' && facts.synced) {
    return unsaved > 0 ? { status: 'saving', text: 'Saving…' } : { status: 'saved', text: 'All changes saved' };
  }
  if (facts.unreachable) {
    return {
      status: 'offline',
      text: unsaved > 0 ? `Can’t reach the server — ${keptHere(unsaved)}` : 'Can’t reach the server — retrying; new edits stay on this device',
    };
  }
  return { status: 'connecting', text: unsaved > 0 ? `Connecting… ${keptHere(unsaved)}` : 'Connecting…' };
}

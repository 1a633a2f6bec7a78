/**
 * What the status line says, derived from facts about the connection. Pure, so every case is
 * unit-tested: the session turns provider and browser events into `ConnectionEvent`s, folds them
 * with `applyConnectionEvent`, and shows `describeConnection` of the result.
 */
import { describeCloseCode, isPermanentRefusal } from '../protocol/closeCodes';

export type ConnectionStatus = 'connecting' | 'synced' | 'offline' | 'refused';

export interface ConnectionFacts {
  /** The browser says it has a network. */
  online: boolean;
  /** The provider's socket state. */
  socket: 'connecting' | 'connected' | 'disconnected';
  /** The initial sync with the server completed on the current socket. */
  synced: boolean;
  /** The server refused us for good (close code 4400–4499). */
  refusal: { code: number; reason: string } | null;
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
  | { type: 'network'; online: boolean };

export const INITIAL_FACTS: ConnectionFacts = { online: true, socket: 'connecting', synced: false, refusal: null };

export function applyConnectionEvent(facts: ConnectionFacts, event: ConnectionEvent): ConnectionFacts {
  switch (event.type) {
    case 'socket':
      // A new socket must sync again before we claim "synced"; a stale flag from the last one lies.
      return { ...facts, socket: event.status, synced: event.status === 'connected' ? event.providerSynced : false };
    case 'sync':
      return { ...facts, synced: event.synced };
    case 'closed':
      // Transient closes just reconnect; only permanent refusals stick (and stop reconnection).
      return isPermanentRefusal(event.code) ? { ...facts, refusal: { code: event.code, reason: event.reason }, synced: false } : facts;
    case 'network':
      return { ...facts, online: event.online, synced: event.online ? facts.synced : false };
  }
}

/** Whether the session should (re)open its socket now. */
export function shouldConnect(facts: ConnectionFacts): boolean {
  return facts.online && facts.refusal === null;
}

export function describeConnection(facts: ConnectionFacts): StatusView {
  if (facts.refusal) return { status: 'refused', text: describeCloseCode(facts.refusal.code) };
  if (!facts.online) return { status: 'offline', text: 'Offline — your changes are kept on this device and sync when you reconnect' };
  if (facts.socket === 'connected' && facts.synced) return { status: 'synced', text: 'All changes synced' };
  return { status: 'connecting', text: 'Connecting…' };
}

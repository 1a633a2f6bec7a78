/**
 * What the status line says, derived from facts about the connection. Pure, so every case is
 * unit-tested; the session feeds it provider and browser events.
 */
import { describeCloseCode } from '../protocol/closeCodes';

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

export const INITIAL_FACTS: ConnectionFacts = { online: true, socket: 'connecting', synced: false, refusal: null };

export function describeConnection(facts: ConnectionFacts): StatusView {
  if (facts.refusal) return { status: 'refused', text: describeCloseCode(facts.refusal.code) };
  if (!facts.online) return { status: 'offline', text: 'Offline — your changes are kept in this tab and sync when you reconnect' };
  if (facts.socket === 'connected' && facts.synced) return { status: 'synced', text: 'All changes synced' };
  return { status: 'connecting', text: 'Connecting…' };
}

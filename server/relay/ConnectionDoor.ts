/**
 * The relay's door: what an upgraded connection must pass before any of its document is sent —
 * a connection slot for its address, a protocol version this server speaks, then a capability
 * for a document that still exists (authorize). It holds the slots taken until their sessions close.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { CONCORD_PROTOCOL_VERSION } from '../../lib/protocol/ackExtension';
import type { DocumentStore } from '../storage/DocumentStore';
import { authorize, type Refusal } from '../auth/authorize';
import type { ConnectionSlots } from './ConnectionSlots';
import type { Session } from './Session';

/** How the door says each refusal (see server/auth/authorize.ts). */
const REFUSAL_CLOSE: Record<Refusal, [code: number, reason: string]> = {
  'missing-token': [CloseCode.missingCapability, 'a capability token is required'],
  forbidden: [CloseCode.forbidden, 'this link is not valid for this document'],
  deleted: [CloseCode.documentDeleted, 'document deleted'],
  // The door asks only for 'view', which every valid link grants; kept for exhaustiveness.
  'insufficient-role': [CloseCode.forbidden, 'this link may not open this document'],
};

export class ConnectionDoor {
  /** Sessions that hold one of their address's connection slots. */
  private readonly holdingSlot = new Set<Session>();

  constructor(
    private readonly store: DocumentStore,
    private readonly log: Logger,
    private readonly slots: ConnectionSlots,
  ) {}

  /**
   * Address cap, protocol version, then the capability before deletion (authorize). Resolves true
   * once the session is admitted (its role set); a refused session is closed with the reason.
   */
  async admit(session: Session): Promise<boolean> {
    const { docId, token } = session;
    if (!(await this.slots.acquire(session.clientIp))) {
      this.log.warn({ docId }, 'too many connections from one address');
      session.close(CloseCode.tooManyConnections, 'too many connections from this address');
      return false;
    }
    // The slot is given back when the session closes (left), or now if it already has.
    if (session.isClosed) {
      this.slots.release(session.clientIp);
      return false;
    }
    this.holdingSlot.add(session);
    const version = session.protocolVersion;
    if (version !== null && (!Number.isInteger(version) || version < 1 || version > CONCORD_PROTOCOL_VERSION)) {
      session.close(CloseCode.unsupportedProtocol, `this server speaks Concord protocol ${CONCORD_PROTOCOL_VERSION}`);
      return false;
    }
    const auth = await authorize(this.store, docId, token, 'view');
    if (session.isClosed) return false;
    if (!auth.ok) {
      const [code, reason] = REFUSAL_CLOSE[auth.refusal];
      session.close(code, reason);
      return false;
    }
    session.role = auth.role;
    this.log.debug({ docId, connectionId: session.origin.connectionId, role: auth.role }, 'connection admitted');
    return true;
  }

  /** A session closed: gives back its address's slot if it took one. */
  left(session: Session): void {
    if (this.holdingSlot.delete(session)) this.slots.release(session.clientIp);
  }
}

/** Refuses an upgrade with a plain HTTP answer (before any WebSocket exists). */
export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const reason = status === 400 ? 'Bad Request' : status === 503 ? 'Service Unavailable' : 'Error';
  const body = `${message}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

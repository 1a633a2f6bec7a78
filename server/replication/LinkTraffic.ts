/**
 * What crossed the links to one peer region, by direction and replication message type, and
 * when the peer was last heard from. One per peer, shared by every link to it in turn, so the
 * counts are monotonic across reconnects (Prometheus counters) and "last contact" survives the
 * link going down (that is when an operator asks for it).
 */
import { ReplicationMessageType } from './replicationFrames';

export type ReplicationMessageTypeName = keyof typeof ReplicationMessageType;

export const REPLICATION_MESSAGE_TYPE_NAMES = Object.keys(ReplicationMessageType) as readonly ReplicationMessageTypeName[];

export type TrafficCounts = Record<ReplicationMessageTypeName, { messages: number; bytes: number }>;

const zeroCounts = (): TrafficCounts =>
  Object.fromEntries(REPLICATION_MESSAGE_TYPE_NAMES.map((name) => [name, { messages: 0, bytes: 0 }])) as TrafficCounts;

export class LinkTraffic {
  readonly sent = zeroCounts();
  readonly received = zeroCounts();
  /** Epoch ms of the last frame from the peer (a verified handshake counts); null: never. */
  lastContact: number | null = null;

  countSent(type: ReplicationMessageTypeName, bytes: number): void {
    this.sent[type].messages++;
    this.sent[type].bytes += bytes;
  }

  countReceived(type: ReplicationMessageTypeName, bytes: number): void {
    this.received[type].messages++;
    this.received[type].bytes += bytes;
  }

  contact(at = Date.now()): void {
    this.lastContact = at;
  }
}

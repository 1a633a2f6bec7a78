import { ACK_MESSAGE_TYPE, DIGEST_MESSAGE_TYPE, MARK_MESSAGE_TYPE } from './ackExtension';
import { CLAIM_MESSAGE_TYPE } from './clientClaims';

/**
 * Top-level message types of the y-websocket wire protocol (first varUint of every frame).
 * Values are fixed by y-websocket; stock clients know exactly these.
 */
export const MessageType = {
  sync: 0,
  awareness: 1,
  auth: 2,
  queryAwareness: 3,
} as const;

export type MessageTypeName = keyof typeof MessageType;

/** Concord's extension types (ackExtension.ts), named for metrics and logs like the stock ones. */
const EXTENSION_TYPES = {
  storedAck: ACK_MESSAGE_TYPE,
  mark: MARK_MESSAGE_TYPE,
  digestCheck: DIGEST_MESSAGE_TYPE,
  clientClaim: CLAIM_MESSAGE_TYPE,
} as const;

/** Every message type with a name: the stock ones and Concord's extension. */
export type KnownMessageTypeName = MessageTypeName | keyof typeof EXTENSION_TYPES;

export const KNOWN_MESSAGE_TYPE_NAMES: readonly KnownMessageTypeName[] = [
  ...(Object.keys(MessageType) as MessageTypeName[]),
  ...(Object.keys(EXTENSION_TYPES) as (keyof typeof EXTENSION_TYPES)[]),
];

/** Names by type value, so the relay's per-message counters look a name up without allocating. */
const NAMES: readonly KnownMessageTypeName[] = (() => {
  const names: KnownMessageTypeName[] = [];
  for (const [name, value] of Object.entries({ ...MessageType, ...EXTENSION_TYPES })) names[value] = name as KnownMessageTypeName;
  return names;
})();

export function messageTypeName(type: number): KnownMessageTypeName | 'unknown' {
  return NAMES[type] ?? 'unknown';
}

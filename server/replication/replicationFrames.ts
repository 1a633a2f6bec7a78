/**
 * What regions send each other once a link is verified (handshake.ts): message types 16 and up
 * (linkFrames.ts keeps the handshake's below 16). One link carries every document.
 *
 *   update  16  docId · update                      a change, live or what the peer lacks
 *   state   17  docId · request · state · digest · access   "this is what I hold" (state: a Yjs
 *                                                   snapshot, delete set + state vector): answered
 *                                                   by the peer with an update of what we lack (if
 *                                                   any) and a reply of what its storage holds
 *   reply   18  docId · request · state · digest · access
 *   access  19  docId · access                      rotation or deletion, merged (mergeAccess)
 *   presence 20 docId · awareness update            cursors of the sender's own clients
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type { AccessState } from '../../lib/auth/capabilities';
import { MalformedFrameError } from '../../lib/protocol/frameReader';

export const ReplicationMessageType = {
  update: 16,
  state: 17,
  stateReply: 18,
  access: 19,
  presence: 20,
} as const;

export interface DocumentState {
  docId: string;
  request: number;
  /** Yjs snapshot (stateCoverage.ts). */
  state: Uint8Array;
  digest: Uint8Array;
  access: AccessState;
}

export type ReplicationMessage =
  | { type: 'update'; docId: string; update: Uint8Array }
  | ({ type: 'state' } & DocumentState)
  | ({ type: 'stateReply' } & DocumentState)
  | { type: 'access'; docId: string; access: AccessState }
  | { type: 'presence'; docId: string; update: Uint8Array };

export function encodeReplicationMessage(message: ReplicationMessage): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, ReplicationMessageType[message.type]);
  encoding.writeVarString(encoder, message.docId);
  switch (message.type) {
    case 'update':
    case 'presence':
      encoding.writeVarUint8Array(encoder, message.update);
      break;
    case 'state':
    case 'stateReply':
      encoding.writeVarUint(encoder, message.request);
      encoding.writeVarUint8Array(encoder, message.state);
      encoding.writeVarUint8Array(encoder, message.digest);
      writeAccess(encoder, message.access);
      break;
    case 'access':
      writeAccess(encoder, message.access);
      break;
  }
  return encoding.toUint8Array(encoder);
}

/** Decodes one replication frame; throws MalformedFrameError for anything else. */
export function decodeReplicationMessage(frame: Uint8Array): ReplicationMessage {
  const decoder = decoding.createDecoder(frame);
  let message: ReplicationMessage;
  try {
    const type = decoding.readVarUint(decoder);
    const docId = decoding.readVarString(decoder);
    switch (type) {
      case ReplicationMessageType.update:
        message = { type: 'update', docId, update: decoding.readVarUint8Array(decoder) };
        break;
      case ReplicationMessageType.presence:
        message = { type: 'presence', docId, update: decoding.readVarUint8Array(decoder) };
        break;
      case ReplicationMessageType.state:
      case ReplicationMessageType.stateReply: {
        const request = decoding.readVarUint(decoder);
        const state = decoding.readVarUint8Array(decoder);
        const digest = decoding.readVarUint8Array(decoder);
        const access = readAccess(decoder);
        message = { type: type === ReplicationMessageType.state ? 'state' : 'stateReply', docId, request, state, digest, access };
        break;
      }
      case ReplicationMessageType.access:
        message = { type: 'access', docId, access: readAccess(decoder) };
        break;
      default:
        throw new MalformedFrameError(`unknown replication message type ${type}`);
    }
  } catch (cause) {
    if (cause instanceof MalformedFrameError) throw cause;
    throw new MalformedFrameError('truncated replication frame', { cause });
  }
  if (decoding.hasContent(decoder)) throw new MalformedFrameError('bytes left over after a replication frame');
  return message;
}

function writeAccess(encoder: encoding.Encoder, access: AccessState): void {
  encoding.writeVarUint(encoder, access.editEpoch);
  encoding.writeVarString(encoder, access.editVerifier ?? '');
  encoding.writeVarUint(encoder, access.viewEpoch);
  encoding.writeVarString(encoder, access.viewVerifier ?? '');
  encoding.writeUint8(encoder, access.deleted ? 1 : 0);
}

function readAccess(decoder: decoding.Decoder): AccessState {
  const editEpoch = decoding.readVarUint(decoder);
  const editVerifier = decoding.readVarString(decoder) || null;
  const viewEpoch = decoding.readVarUint(decoder);
  const viewVerifier = decoding.readVarString(decoder) || null;
  const deleted = decoding.readUint8(decoder) === 1;
  return { editEpoch, editVerifier, viewEpoch, viewVerifier, deleted };
}

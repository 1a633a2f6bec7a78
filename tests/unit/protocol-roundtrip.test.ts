/**
 * Every message of lib/protocol, both directions: encode → decode gives the input back, and
 * truncated or garbage frames throw MalformedFrameError instead of decoding to a wrong value.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import {
  ACK_MESSAGE_TYPE,
  decodeMark,
  decodeMarkStored,
  decodeStoredAck,
  encodeMark,
  encodeMarkStored,
  encodeStoredAck,
  MARK_MESSAGE_TYPE,
} from '../../lib/protocol/ackExtension';
import {
  decodeAwarenessMessage,
  decodeClientMessage,
  decodePermissionDenied,
  decodeQueryAwareness,
  decodeRelayMessage,
  decodeSyncMessage,
  MalformedFrameError,
} from '../../lib/protocol/decode';
import {
  encodeAwarenessMessage,
  encodePermissionDenied,
  encodeQueryAwareness,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdateMessage,
} from '../../lib/protocol/encode';
import { MessageType, messageTypeName } from '../../lib/protocol/messageTypes';

function docWithText(text: string): Y.Doc {
  const doc = new Y.Doc();
  doc.getText('title').insert(0, text);
  return doc;
}

/** An update large enough that its length prefix takes two bytes (lengths ≥ 128). */
function bigUpdate(): Uint8Array {
  return Y.encodeStateAsUpdate(docWithText('x'.repeat(300)));
}

const smallUpdate = Y.encodeStateAsUpdate(docWithText('hello'));
const stateVector = Y.encodeStateVector(docWithText('hello'));

function frame(...parts: ((e: encoding.Encoder) => void)[]): Uint8Array {
  const encoder = encoding.createEncoder();
  for (const part of parts) part(encoder);
  return encoding.toUint8Array(encoder);
}

/** The frame inside a larger buffer, as ws hands out views into pooled memory. */
function inPooledBuffer(bytes: Uint8Array): Uint8Array {
  const pool = new Uint8Array(bytes.length + 64).fill(7);
  pool.set(bytes, 16);
  return pool.subarray(16, 16 + bytes.length);
}

/** Every proper prefix of the frame, the empty one included. */
function prefixes(bytes: Uint8Array): Uint8Array[] {
  return Array.from({ length: bytes.length }, (_, n) => bytes.subarray(0, n));
}

function withTrailing(bytes: Uint8Array, ...extra: number[]): Uint8Array {
  return Uint8Array.from([...bytes, ...extra]);
}

describe('sync messages', () => {
  it('step 1 carries the state vector of the encoded document', () => {
    const doc = docWithText('state');
    const decoded = decodeSyncMessage(encodeSyncStep1(doc));
    expect(decoded).toEqual({ type: 'syncStep1', stateVector: Y.encodeStateVector(doc) });
    expect(decodeClientMessage(encodeSyncStep1(doc))).toEqual(decoded);
    expect(decodeRelayMessage(encodeSyncStep1(doc))).toEqual(decoded);
  });

  it('step 2 and update carry the update unchanged, at every length class', () => {
    for (const update of [new Uint8Array([0, 0]), smallUpdate, bigUpdate()]) {
      expect(decodeSyncMessage(encodeSyncStep2(update))).toEqual({ type: 'syncStep2', update });
      expect(decodeSyncMessage(encodeUpdateMessage(update))).toEqual({ type: 'update', update });
      expect(decodeClientMessage(encodeUpdateMessage(update))).toEqual({ type: 'update', update });
      expect(decodeRelayMessage(encodeSyncStep2(update))).toEqual({ type: 'syncStep2', update });
    }
  });

  it('a decoded update applies to another replica', () => {
    const decoded = decodeSyncMessage(encodeUpdateMessage(smallUpdate));
    expect(decoded?.type).toBe('update');
    const replica = new Y.Doc();
    Y.applyUpdate(replica, (decoded as { update: Uint8Array }).update);
    expect(replica.getText('title').toString()).toBe('hello');
  });

  it('an unknown sync step is an error', () => {
    const bad = frame(
      (e) => encoding.writeVarUint(e, MessageType.sync),
      (e) => encoding.writeVarUint(e, 9),
      (e) => encoding.writeVarUint8Array(e, smallUpdate),
    );
    expect(() => decodeSyncMessage(bad)).toThrow(/unknown sync message type 9/);
  });

  it('is null for a frame of another type', () => {
    expect(decodeSyncMessage(encodeQueryAwareness())).toBeNull();
  });
});

describe('awareness messages', () => {
  it('the update carries every client state, and applies to another awareness', () => {
    const doc = new Y.Doc();
    const awareness = new awarenessProtocol.Awareness(doc);
    awareness.setLocalStateField('user', { name: 'Ada', colour: '#123456' });
    const message = encodeAwarenessMessage(awareness);

    const update = decodeAwarenessMessage(message)!;
    const other = new awarenessProtocol.Awareness(new Y.Doc());
    awarenessProtocol.applyAwarenessUpdate(other, update, 'test');
    expect(other.getStates().get(doc.clientID)).toEqual({ user: { name: 'Ada', colour: '#123456' } });
    expect(decodeClientMessage(message)).toEqual({ type: 'awareness', update });
    expect(decodeRelayMessage(message)).toEqual({ type: 'awareness', update });
    awareness.destroy();
    other.destroy();
  });
});

describe('auth and query-awareness messages', () => {
  it('permission denied (relay → client) carries its reason', () => {
    const reason = 'This is a view-only link: changes are not saved. ✓';
    expect(decodePermissionDenied(encodePermissionDenied(reason))).toBe(reason);
    expect(decodeRelayMessage(encodePermissionDenied(reason))).toEqual({ type: 'permissionDenied', reason });
  });

  it('an auth frame of an unknown kind is an error', () => {
    const bad = frame((e) => encoding.writeVarUint(e, MessageType.auth), (e) => encoding.writeVarUint(e, 5), (e) => encoding.writeVarString(e, 'x'));
    expect(() => decodePermissionDenied(bad)).toThrow(/unknown auth message type 5/);
  });

  it('query awareness (client → relay) is the type alone', () => {
    expect(decodeQueryAwareness(encodeQueryAwareness())).toBe(true);
    expect(decodeClientMessage(encodeQueryAwareness())).toEqual({ type: 'queryAwareness' });
    expect(() => decodeClientMessage(withTrailing(encodeQueryAwareness(), 0))).toThrow(/1 unexpected trailing byte$/);
  });

  it('an auth frame from a client is accepted and carries nothing (permissions come from the link)', () => {
    expect(decodeClientMessage(encodePermissionDenied('ignored'))).toEqual({ type: 'auth' });
  });
});

describe('stored-ack extension (100 and 101)', () => {
  it('stored ack (relay → client) carries the stored state vector', () => {
    for (const vector of [new Uint8Array([0]), stateVector]) {
      expect(decodeStoredAck(encodeStoredAck(vector))).toEqual(vector);
      expect(decodeRelayMessage(encodeStoredAck(vector))).toEqual({ type: 'storedAck', storedStateVector: vector });
    }
  });

  it('mark (client → relay) carries its id, up to the largest safe integer', () => {
    for (const id of [0, 1, 127, 128, 300, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
      expect(decodeMark(encodeMark(id))).toBe(id);
      expect(decodeClientMessage(encodeMark(id))).toEqual({ type: 'mark', id });
    }
  });

  it('mark answer (relay → client) carries the id and the stored state vector', () => {
    for (const id of [1, 128, 2 ** 40]) {
      expect(decodeMarkStored(encodeMarkStored(id, stateVector))).toEqual({ id, storedStateVector: stateVector });
      expect(decodeRelayMessage(encodeMarkStored(id, stateVector))).toEqual({ type: 'markStored', id, storedStateVector: stateVector });
    }
  });

  it('a mark read in the wrong direction is an error, not a plausible value', () => {
    // 101 · id is a client mark; 101 · id · vector is the relay's answer. Each must refuse the other.
    expect(() => decodeMarkStored(encodeMark(5))).toThrow(MalformedFrameError);
    expect(() => decodeRelayMessage(encodeMark(5))).toThrow(/truncated or invalid mark answer frame/);
    expect(() => decodeMark(encodeMarkStored(5, stateVector))).toThrow(/mark frame has \d+ unexpected trailing bytes/);
    expect(() => decodeClientMessage(encodeMarkStored(5, stateVector))).toThrow(MalformedFrameError);
  });

  it('decoders are null for frames of other types', () => {
    expect(decodeStoredAck(encodeMark(1))).toBeNull();
    expect(decodeMark(encodeStoredAck(stateVector))).toBeNull();
    expect(decodeMarkStored(encodeUpdateMessage(smallUpdate))).toBeNull();
  });

  it('metrics and logs name both types', () => {
    expect(messageTypeName(ACK_MESSAGE_TYPE)).toBe('storedAck');
    expect(messageTypeName(MARK_MESSAGE_TYPE)).toBe('mark');
    expect(messageTypeName(MessageType.queryAwareness)).toBe('queryAwareness');
    expect(messageTypeName(42)).toBe('unknown');
  });
});

/** One frame of every message, with the decoder of its direction. */
const everyMessage: { name: string; bytes: Uint8Array; decode: (frame: Uint8Array) => unknown }[] = [
  { name: 'sync step 1', bytes: encodeSyncStep1(docWithText('abc')), decode: decodeClientMessage },
  { name: 'sync step 2', bytes: encodeSyncStep2(bigUpdate()), decode: decodeRelayMessage },
  { name: 'update', bytes: encodeUpdateMessage(smallUpdate), decode: decodeClientMessage },
  { name: 'awareness', bytes: encodeAwarenessMessage(new awarenessProtocol.Awareness(new Y.Doc())), decode: decodeRelayMessage },
  { name: 'permission denied', bytes: encodePermissionDenied('view only'), decode: decodeRelayMessage },
  { name: 'stored ack', bytes: encodeStoredAck(stateVector), decode: decodeRelayMessage },
  { name: 'mark', bytes: encodeMark(300), decode: decodeClientMessage },
  { name: 'mark answer', bytes: encodeMarkStored(300, stateVector), decode: decodeRelayMessage },
];

describe('truncated and garbage frames', () => {
  it.each(everyMessage)('$name: every truncation throws MalformedFrameError', ({ bytes, decode }) => {
    for (const prefix of prefixes(bytes)) expect(() => decode(prefix), `prefix of ${prefix.length} bytes`).toThrow(MalformedFrameError);
  });

  it.each(everyMessage)('$name: a truncation inside a pooled buffer never reads past the frame', ({ bytes, decode }) => {
    for (const prefix of prefixes(bytes)) expect(() => decode(inPooledBuffer(prefix))).toThrow(MalformedFrameError);
    expect(decode(inPooledBuffer(bytes))).toEqual(decode(bytes));
  });

  it.each(everyMessage)('$name: bytes after the message throw MalformedFrameError', ({ bytes, decode }) => {
    expect(() => decode(withTrailing(bytes, 0))).toThrow(/unexpected trailing byte/);
    expect(() => decode(withTrailing(bytes, 1, 2, 3))).toThrow(/3 unexpected trailing bytes/);
  });

  it('unknown types are errors in each direction', () => {
    expect(() => decodeClientMessage(encodeStoredAck(stateVector))).toThrow(/unknown client message type 100/);
    expect(() => decodeRelayMessage(encodeQueryAwareness())).toThrow(/unknown relay message type 3/);
    expect(() => decodeRelayMessage(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f))).toThrow(MalformedFrameError);
  });

  it('the error says what was malformed and keeps the cause', () => {
    let error: unknown = null;
    try {
      decodeStoredAck(encodeStoredAck(stateVector).subarray(0, 2));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MalformedFrameError);
    expect((error as Error).message).toBe('truncated or invalid stored-ack frame');
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});

import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import {
  BUS_PROTOCOL_VERSION,
  decodeDocumentMessage,
  decodeInstanceMessage,
  encodeDocumentMessage,
  encodeInstanceMessage,
  MalformedBusFrameError,
  type DocumentMessage,
} from '../../server/instances/busFrames';

const messages: DocumentMessage[] = [
  { sender: 'web-1', epoch: 2_000_000_000, seq: 1, sentAt: 1_796_000_000_123, frame: { type: 'update', update: new Uint8Array([1, 2, 3]), fromPeerRegion: false } },
  { sender: 'web-2', epoch: 3, seq: 4, sentAt: 6, frame: { type: 'update', update: new Uint8Array([9]), fromPeerRegion: true } },
  { sender: 'b', epoch: 7, seq: 99, sentAt: 5, frame: { type: 'presence', update: new Uint8Array([0]), fromPeerRegion: false } },
  { sender: 'c', epoch: 7, seq: 100, sentAt: 6, frame: { type: 'presenceQuery' } },
  { sender: 'd', epoch: 0, seq: 0, sentAt: 7, frame: { type: 'access' } },
];

describe('bus frames between instances', () => {
  it.each(messages)('round-trips a $frame.type message', (message) => {
    expect(decodeDocumentMessage(encodeDocumentMessage(message))).toEqual(message);
  });

  it('round-trips instance messages', () => {
    for (const message of [{ type: 'alive', sender: 'a' }, { type: 'leaving', sender: 'b-2' }] as const) {
      expect(decodeInstanceMessage(encodeInstanceMessage(message))).toEqual(message);
    }
  });

  it('refuses every truncation, bytes left over, another version and an unknown type', () => {
    const frame = encodeDocumentMessage(messages[0]!);
    for (let length = 0; length < frame.length; length++) {
      expect(() => decodeDocumentMessage(frame.slice(0, length))).toThrow(MalformedBusFrameError);
    }
    expect(() => decodeDocumentMessage(new Uint8Array([...frame, 0]))).toThrow(/left over/);
    expect(() => decodeDocumentMessage(new Uint8Array([BUS_PROTOCOL_VERSION + 1, ...frame.slice(1)]))).toThrow(/version/);
    const unknown = encoding.createEncoder();
    encoding.writeVarUint(unknown, BUS_PROTOCOL_VERSION);
    encoding.writeVarUint(unknown, 9);
    expect(() => decodeDocumentMessage(encoding.toUint8Array(unknown))).toThrow(/unknown/);
    expect(() => decodeInstanceMessage(encoding.toUint8Array(unknown))).toThrow(/unknown/);
  });

  it('copies the update out of the frame it arrived in', () => {
    const frame = encodeDocumentMessage(messages[0]!);
    const decoded = decodeDocumentMessage(frame);
    frame.fill(0);
    expect(decoded.frame).toEqual(messages[0]!.frame);
  });
});

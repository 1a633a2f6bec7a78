import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import { MalformedFrameError } from '../../lib/protocol/frameReader';
import {
  LINK_PROTOCOL_VERSION,
  LinkMessageType,
  MAX_HANDSHAKE_FRAME_BYTES,
  decodeAcceptorProof,
  decodeDialerProof,
  decodeHello,
  encodeAcceptorProof,
  encodeDialerProof,
  encodeHello,
  readLinkHeader,
} from '../../server/replication/linkFrames';

describe('link frames', () => {
  const nonce = new Uint8Array(32).fill(7);
  const mac = new Uint8Array(32).fill(9);

  it('round-trip', () => {
    const hello = { v: LINK_PROTOCOL_VERSION, nonce };
    expect(decodeHello(encodeHello(hello))).toEqual(hello);
    const dialer = { v: 1, region: 'eu-west', publicUrl: 'https://eu.example.com', storageId: 'x|y', nonce, mac };
    expect(decodeDialerProof(encodeDialerProof(dialer))).toEqual(dialer);
    const bare = { v: 1, region: 'a', publicUrl: undefined, storageId: undefined, nonce, mac };
    expect(decodeDialerProof(encodeDialerProof(bare))).toEqual(bare);
    const acceptor = { v: 1, region: 'us-0', publicUrl: undefined, storageId: 'store', mac };
    expect(decodeAcceptorProof(encodeAcceptorProof(acceptor))).toEqual(acceptor);
    expect(readLinkHeader(encodeAcceptorProof(acceptor))).toEqual({ type: LinkMessageType.acceptorProof, v: 1 });
  });

  it('returns null for another type, and reads the version of any type', () => {
    expect(decodeDialerProof(encodeHello({ v: 1, nonce }))).toBeNull();
    expect(readLinkHeader(encodeHello({ v: 9, nonce }))).toEqual({ type: LinkMessageType.hello, v: 9 });
  });

  it.each([
    ['an empty frame', () => new Uint8Array(0)],
    ['a truncated hello', () => encodeHello({ v: 1, nonce }).slice(0, 10)],
    ['a hello with a byte left over', () => Uint8Array.from([...encodeHello({ v: 1, nonce }), 0])],
    ['a 31-byte nonce', () => encodeHello({ v: 1, nonce: nonce.slice(1) })],
    ['a 33-byte MAC', () => encodeAcceptorProof({ v: 1, region: 'a', publicUrl: undefined, storageId: undefined, mac: new Uint8Array(33) })],
    ['a region that is not a region name', () => encodeAcceptorProof({ v: 1, region: 'A B', publicUrl: undefined, storageId: undefined, mac })],
    ['a public URL that is not http(s)', () => encodeAcceptorProof({ v: 1, region: 'a', publicUrl: 'javascript:alert(1)', storageId: undefined, mac })],
    ['a storage id of 129 characters', () => encodeAcceptorProof({ v: 1, region: 'a', publicUrl: undefined, storageId: 's'.repeat(129), mac })],
    ['a presence flag of 2', () => {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, LinkMessageType.acceptorProof);
      encoding.writeVarUint(encoder, 1);
      encoding.writeVarString(encoder, 'a');
      encoding.writeVarUint(encoder, 2);
      return encoding.toUint8Array(encoder);
    }],
    ['an oversized frame', () => Uint8Array.from([...encodeHello({ v: 1, nonce }), ...new Uint8Array(MAX_HANDSHAKE_FRAME_BYTES)])],
  ])('refuse %s with MalformedFrameError', (_what, make) => {
    const frame = make();
    expect(() => {
      readLinkHeader(frame);
      decodeHello(frame);
      decodeAcceptorProof(frame);
    }).toThrow(MalformedFrameError);
  });
});

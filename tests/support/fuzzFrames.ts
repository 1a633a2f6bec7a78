/**
 * Hostile frames for the relay fuzz test: random and mutated protocol messages. Deterministic for
 * a seed, so a failure can be replayed.
 */
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { MessageType } from '../../lib/protocol/messageTypes';

/** mulberry32: a tiny seeded PRNG. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzFrame {
  kind: string;
  data: Uint8Array | string;
  /** True when the server must refuse it whatever the random bytes turned out to be. */
  alwaysInvalid: boolean;
}

function bytes(random: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

function frame(...parts: (number | Uint8Array)[]): Uint8Array {
  const encoder = encoding.createEncoder();
  for (const part of parts) {
    if (typeof part === 'number') encoding.writeUint8(encoder, part);
    else encoding.writeUint8Array(encoder, part);
  }
  return encoding.toUint8Array(encoder);
}

/** Real updates from a scratch document, as material to corrupt. */
function sampleUpdates(random: () => number): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  const text = doc.getText('t');
  for (let i = 0; i < 40; i++) {
    const pos = Math.floor(random() * (text.length + 1));
    if (random() < 0.2 && text.length > 2) text.delete(Math.min(pos, text.length - 1), 1);
    else text.insert(pos, `w${i} `);
  }
  doc.getMap('m').set('k', { nested: [1, 2, 3] });
  updates.push(Y.encodeStateAsUpdate(doc));
  return updates;
}

export function* fuzzFrames(count: number, seed = 1): Generator<FuzzFrame> {
  const random = seededRandom(seed);
  const samples = sampleUpdates(random);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const varUintHuge = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]);
  const generators: (() => FuzzFrame)[] = [
    () => ({ kind: 'unknown message type', data: frame(4 + Math.floor(random() * 250), bytes(random, Math.floor(random() * 32))), alwaysInvalid: true }),
    () => ({ kind: 'empty frame', data: new Uint8Array(0), alwaysInvalid: true }),
    () => ({ kind: 'truncated varint', data: pick([frame(0x80), frame(MessageType.sync, 0x80), frame(MessageType.sync, 2, 0xff), frame(MessageType.awareness, 0xff, 0xff)]), alwaysInvalid: true }),
    () => ({ kind: 'huge length', data: frame(MessageType.sync, pick([0, 1, 2]), varUintHuge, bytes(random, 8)), alwaysInvalid: true }),
    () => ({ kind: 'unknown sync step', data: frame(MessageType.sync, 3 + Math.floor(random() * 100), 1, 0), alwaysInvalid: true }),
    () => ({ kind: 'text frame', data: 'hello, this is not a binary frame', alwaysInvalid: true }),
    () => {
      // One client state whose JSON is cut off: never parses.
      const inner = encoding.createEncoder();
      encoding.writeVarUint(inner, 1);
      encoding.writeVarUint(inner, 1 + Math.floor(random() * 1000));
      encoding.writeVarUint(inner, 1 + Math.floor(random() * 1000));
      encoding.writeVarString(inner, `{"user":${'x'.repeat(Math.floor(random() * 8))}`);
      const update = encoding.toUint8Array(inner);
      const outer = encoding.createEncoder();
      encoding.writeVarUint(outer, MessageType.awareness);
      encoding.writeVarUint8Array(outer, update);
      return { kind: 'awareness garbage', data: encoding.toUint8Array(outer), alwaysInvalid: true };
    },
    () => {
      // An update that claims more bytes than the frame holds.
      const update = pick(samples);
      return { kind: 'truncated update', data: encodeUpdateMessage(update).slice(0, 3 + Math.floor(random() * Math.max(1, update.length - 4))), alwaysInvalid: true };
    },
    () => {
      const update = pick(samples).slice();
      const flips = 1 + Math.floor(random() * 4);
      for (let i = 0; i < flips; i++) update[Math.floor(random() * update.length)] = Math.floor(random() * 256);
      return { kind: 'corrupted update', data: encodeUpdateMessage(update), alwaysInvalid: false };
    },
    () => ({ kind: 'random update bytes', data: encodeUpdateMessage(bytes(random, 2 + Math.floor(random() * 40))), alwaysInvalid: false }),
  ];
  for (let i = 0; i < count; i++) yield pick(generators)();
}

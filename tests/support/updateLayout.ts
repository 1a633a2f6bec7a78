/**
 * Where each field of a Yjs V1 update lies, byte by byte, so the hostile-edit generator
 * (hostileEdits.ts) can mutate one varint client id or clock, cut or duplicate one struct, or
 * flip an info byte, instead of only random bytes. Mirrors Yjs 13's readClientsStructRefs /
 * readItemContent / readDeleteSet for V1; a buffer it cannot read throws (the caller then falls
 * back to byte mutations).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/** A byte range [start, end) holding one varint. */
export interface Span {
  start: number;
  end: number;
  value: number;
}

export interface StructLayout {
  start: number;
  end: number;
  /** The info byte: low 5 bits the content ref (0 GC, 10 Skip), 0x80 origin, 0x40 right origin, 0x20 parentSub. */
  info: number;
  /** Varints of the origin / right origin / parent IDs (client then clock), when present. */
  ids: Span[];
}

export interface ClientBlockLayout {
  numStructs: Span;
  client: Span;
  clock: Span;
  structs: StructLayout[];
}

export interface UpdateLayout {
  numClients: Span;
  blocks: ClientBlockLayout[];
  /** Where the delete set starts, and its (client, clock, length) varints. */
  deleteSetStart: number;
  deleteSpans: Span[];
}

function span(decoder: decoding.Decoder): Span {
  const start = decoder.pos;
  const value = decoding.readVarUint(decoder);
  return { start, end: decoder.pos, value };
}

function skipContent(decoder: decoding.Decoder, ref: number): void {
  switch (ref) {
    case 1: // ContentDeleted
      decoding.readVarUint(decoder);
      return;
    case 2: {
      // ContentJSON
      const n = decoding.readVarUint(decoder);
      for (let i = 0; i < n; i++) decoding.readVarString(decoder);
      return;
    }
    case 3: // ContentBinary
      decoding.readVarUint8Array(decoder);
      return;
    case 4: // ContentString
    case 5: // ContentEmbed (JSON as a string in V1)
      decoding.readVarString(decoder);
      return;
    case 6: // ContentFormat: key, JSON value
      decoding.readVarString(decoder);
      decoding.readVarString(decoder);
      return;
    case 7: {
      // ContentType: XmlElement (3) and XmlHook (5) carry a name
      const typeRef = decoding.readVarUint(decoder);
      if (typeRef === 3 || typeRef === 5) decoding.readVarString(decoder);
      return;
    }
    case 8: {
      // ContentAny
      const n = decoding.readVarUint(decoder);
      for (let i = 0; i < n; i++) decoding.readAny(decoder);
      return;
    }
    case 9: // ContentDoc: guid, options
      decoding.readVarString(decoder);
      decoding.readAny(decoder);
      return;
    default:
      throw new Error(`unknown content ref ${ref}`);
  }
}

function readStruct(decoder: decoding.Decoder): StructLayout {
  const start = decoder.pos;
  const info = decoding.readUint8(decoder);
  const ref = info & 0b11111;
  const ids: Span[] = [];
  if (ref === 0 || ref === 10) {
    // GC or Skip: a length only
    decoding.readVarUint(decoder);
    return { start, end: decoder.pos, info, ids };
  }
  if (info & 0x80) ids.push(span(decoder), span(decoder));
  if (info & 0x40) ids.push(span(decoder), span(decoder));
  if ((info & 0xc0) === 0) {
    const parentIsKey = decoding.readVarUint(decoder) === 1;
    if (parentIsKey) decoding.readVarString(decoder);
    else ids.push(span(decoder), span(decoder));
    if (info & 0x20) decoding.readVarString(decoder);
  }
  skipContent(decoder, ref);
  return { start, end: decoder.pos, info, ids };
}

/** Reads the layout of a V1 update; throws on anything it cannot read to the end. */
export function readUpdateLayout(update: Uint8Array): UpdateLayout {
  const decoder = decoding.createDecoder(update);
  const numClients = span(decoder);
  const blocks: ClientBlockLayout[] = [];
  for (let i = 0; i < numClients.value; i++) {
    const numStructs = span(decoder);
    const client = span(decoder);
    const clock = span(decoder);
    const structs: StructLayout[] = [];
    for (let j = 0; j < numStructs.value; j++) structs.push(readStruct(decoder));
    blocks.push({ numStructs, client, clock, structs });
  }
  const deleteSetStart = decoder.pos;
  const deleteSpans: Span[] = [];
  const dsClients = decoding.readVarUint(decoder);
  for (let i = 0; i < dsClients; i++) {
    deleteSpans.push(span(decoder));
    const ranges = decoding.readVarUint(decoder);
    for (let j = 0; j < ranges; j++) deleteSpans.push(span(decoder), span(decoder));
  }
  if (decoding.hasContent(decoder)) throw new Error('trailing bytes after the delete set');
  return { numClients, blocks, deleteSetStart, deleteSpans };
}

/** The layout, or null when `update` is not a readable V1 update (a mutated one often is not). */
export function tryReadUpdateLayout(update: Uint8Array): UpdateLayout | null {
  try {
    return readUpdateLayout(update);
  } catch (err) {
    if (err instanceof Error) return null; // lib0 throws Errors on a short or unknown buffer: "not readable" is the answer
    throw err;
  }
}

export function varUint(value: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, value);
  return encoding.toUint8Array(encoder);
}

/** `bytes` with [start, end) replaced by `insert`. */
export function splice(bytes: Uint8Array, start: number, end: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - (end - start) + insert.length);
  out.set(bytes.subarray(0, start), 0);
  out.set(insert, start);
  out.set(bytes.subarray(end), start + insert.length);
  return out;
}

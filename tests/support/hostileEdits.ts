/**
 * Hostile edits for the replica-split fuzz (issue #15): real Yjs updates of the document's own
 * shape, made by an attacker replica synced with the document, then corrupted. Random bytes
 * alone are almost all refused by the decoder; mutations that keep the update readable (another
 * client id or clock, a struct cut or duplicated, a struct from another update, an info bit)
 * are what reach Yjs's integration and its pending-structs path, where the splits came from.
 *
 * Deterministic for a seed and the sequence of document states it is given, so a failing run can
 * be replayed.
 */
import * as Y from 'yjs';
import { BODY_FRAGMENT, TITLE_TEXT } from '../../lib/documents/dataModel';
import { seededRandom } from './fuzzFrames';
import { readUpdateLayout, splice, tryReadUpdateLayout, varUint, type UpdateLayout } from './updateLayout';

export type HostileEditKind = 'edit' | 'mutated edit' | 'mutated state';

export interface HostileEdit {
  kind: HostileEditKind;
  update: Uint8Array;
  /** What was done to the real update, in order (empty for an unmutated edit). */
  mutations: string[];
}

export interface HostileEditOptions {
  /** The attacker rebuilds its replica from the document's current state this often (edits). */
  resyncEvery: number;
  /** Share of edits sent as they are. */
  unmutated: number;
  /** Share of whole-state updates (encodeStateAsUpdate of the attacker replica), mutated. */
  wholeState: number;
}

export const DEFAULT_HOSTILE_EDIT_OPTIONS: HostileEditOptions = { resyncEvery: 32, unmutated: 0.15, wholeState: 0.03 };

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
/** Marks as y-prosemirror writes them: formatting attributes on XmlText, the mark's attrs as value. */
const MARKS: Record<string, unknown>[] = [{}, { strong: {} }, { em: {} }, { code: {} }, { link: { href: 'https://example.com/', title: null } }, { strong: {}, em: {} }];
/** Real updates kept as material to splice from. */
const MATERIAL_SIZE = 32;

export class HostileEdits {
  private readonly random: () => number;
  private readonly options: HostileEditOptions;
  private attacker: Y.Doc | null = null;
  private sinceResync = 0;
  private readonly material: Uint8Array[] = [];

  constructor(seed: number, options: Partial<HostileEditOptions> = {}) {
    this.random = seededRandom(seed);
    this.options = { ...DEFAULT_HOSTILE_EDIT_OPTIONS, ...options };
  }

  /**
   * The next hostile update. `documentState` returns the document as an honest replica holds it
   * (Y.encodeStateAsUpdate); it is read only when the attacker re-syncs, so that its edits
   * reference items that really exist (and, between re-syncs, its own earlier edits, which the
   * relay may never have accepted: those arrive with missing dependencies).
   */
  next(documentState: () => Uint8Array): HostileEdit {
    const doc = this.replica(documentState);
    const edit = this.edit(doc);
    this.remember(edit);
    const roll = this.random();
    if (roll < this.options.unmutated) return { kind: 'edit', update: edit, mutations: [] };
    if (roll < this.options.unmutated + this.options.wholeState) {
      const state = Y.encodeStateAsUpdate(doc);
      return { kind: 'mutated state', ...this.mutate(state) };
    }
    return { kind: 'mutated edit', ...this.mutate(edit) };
  }

  private replica(documentState: () => Uint8Array): Y.Doc {
    if (!this.attacker || this.sinceResync >= this.options.resyncEvery) {
      this.attacker?.destroy();
      const doc = new Y.Doc();
      // A client id from the seed, so that runs replay; never 0, which Yjs never picks.
      doc.clientID = 1 + Math.floor(this.random() * 0x7ffffffe);
      Y.applyUpdate(doc, documentState());
      this.attacker = doc;
      this.sinceResync = 0;
    }
    this.sinceResync++;
    return this.attacker;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private int(below: number): number {
    return Math.floor(this.random() * below);
  }

  private text(): string {
    const n = 1 + this.int(4);
    return Array.from({ length: n }, () => this.pick(WORDS)).join(' ');
  }

  /** One edit of the document's shape on the attacker replica; returns its update. */
  private edit(doc: Y.Doc): Uint8Array {
    let update: Uint8Array | null = null;
    const capture = (u: Uint8Array) => (update = u);
    doc.on('update', capture);
    const body = doc.getXmlFragment(BODY_FRAGMENT);
    const roll = this.random();
    doc.transact(() => {
      if (roll < 0.25 || body.length === 0) body.insert(this.int(body.length + 1), [this.block()]);
      else if (roll < 0.6) this.typeInto(body);
      else if (roll < 0.85) this.deleteFrom(body);
      else this.editTitle(doc.getText(TITLE_TEXT));
    });
    doc.off('update', capture);
    // An edit that changed nothing (deleting from an empty text) still needs bytes to send.
    return update ?? Y.encodeStateAsUpdate(doc);
  }

  private block(): Y.XmlElement {
    const textNode = (): Y.XmlText => {
      // Not yet in a document, so its length cannot be read: track it.
      const t = new Y.XmlText();
      const first = this.text();
      t.insert(0, first, this.pick(MARKS));
      if (this.random() < 0.3) t.insert(first.length, ` ${this.text()}`, this.pick(MARKS));
      return t;
    };
    const element = (name: string, children: (Y.XmlElement | Y.XmlText)[]): Y.XmlElement => {
      const e = new Y.XmlElement(name);
      e.insert(0, children);
      return e;
    };
    const roll = this.random();
    if (roll < 0.45) return element('paragraph', [textNode()]);
    if (roll < 0.7) {
      // y-prosemirror writes node attributes as they are: the level is a number.
      const heading = element('heading', [textNode()]) as unknown as Y.XmlElement<{ level: number }>;
      heading.setAttribute('level', 1 + this.int(3));
      return heading as unknown as Y.XmlElement;
    }
    if (roll < 0.85) return element('blockquote', [element('paragraph', [textNode()])]);
    const items = Array.from({ length: 1 + this.int(3) }, () => element('list_item', [element('paragraph', [textNode()])]));
    return element(this.random() < 0.5 ? 'bullet_list' : 'ordered_list', items);
  }

  /**
   * The XmlTexts of a few random top-level blocks (paragraph and heading text, a quote's or list
   * item's paragraph): sampling, not walking the whole body, keeps an edit cheap as the body grows.
   */
  private texts(body: Y.XmlFragment): Y.XmlText[] {
    const out: Y.XmlText[] = [];
    const walk = (node: Y.XmlElement | Y.XmlText) => {
      if (node instanceof Y.XmlText) out.push(node);
      else for (const child of node.toArray()) if (child instanceof Y.XmlElement || child instanceof Y.XmlText) walk(child);
    };
    for (let i = 0; i < 3 && body.length > 0; i++) {
      const block = body.get(this.int(body.length));
      if (block instanceof Y.XmlElement || block instanceof Y.XmlText) walk(block);
    }
    return out;
  }

  private typeInto(body: Y.XmlFragment): void {
    const texts = this.texts(body);
    if (texts.length === 0) return void body.insert(0, [this.block()]);
    const t = this.pick(texts);
    t.insert(this.int(t.length + 1), `${this.pick(WORDS)} `, this.pick(MARKS));
    // Formatting someone else's text, as the editor's bold button does.
    if (this.random() < 0.3 && t.length > 1) {
      const from = this.int(t.length - 1);
      t.format(from, 1 + this.int(t.length - from), this.pick(MARKS.slice(1)));
    }
  }

  /** Deletes other people's content: a run of characters, or a whole block. */
  private deleteFrom(body: Y.XmlFragment): void {
    const texts = this.texts(body).filter((t) => t.length > 0);
    if (this.random() < 0.5 || texts.length === 0) {
      if (body.length > 0) body.delete(this.int(body.length), 1);
      return;
    }
    const t = this.pick(texts);
    const from = this.int(t.length);
    t.delete(from, 1 + this.int(Math.min(12, t.length - from)));
  }

  private editTitle(title: Y.Text): void {
    if (this.random() < 0.3 && title.length > 0) {
      const from = this.int(title.length);
      title.delete(from, 1 + this.int(title.length - from));
    } else {
      title.insert(this.int(title.length + 1), this.pick(WORDS));
    }
  }

  private remember(update: Uint8Array): void {
    this.material.push(update);
    if (this.material.length > MATERIAL_SIZE) this.material.shift();
  }

  /** One to three random bytes, a structure-aware mutation, or both. */
  private mutate(update: Uint8Array): { update: Uint8Array; mutations: string[] } {
    const mutations: string[] = [];
    let bytes = update;
    const roll = this.random();
    // Random bytes alone are mostly refused by the decoder (tests/integration/fuzz.test.ts covers
    // those): most updates get a structure-aware mutation, which keeps them readable.
    if (roll >= 0.2) bytes = this.mutateStructure(bytes, mutations);
    if (roll < 0.35 || mutations.length === 0) bytes = this.mutateBytes(bytes, mutations);
    return { update: bytes, mutations };
  }

  private mutateBytes(update: Uint8Array, mutations: string[]): Uint8Array {
    const bytes = update.slice();
    const n = 1 + this.int(3);
    for (let i = 0; i < n; i++) {
      const at = this.int(bytes.length);
      const value = this.int(256);
      mutations.push(`byte ${at}: ${bytes[at]} → ${value}`);
      bytes[at] = value;
    }
    return bytes;
  }

  private mutateStructure(update: Uint8Array, mutations: string[]): Uint8Array {
    let layout: UpdateLayout;
    try {
      layout = readUpdateLayout(update);
    } catch (err) {
      // Only real updates reach here; if one cannot be read the parser is wrong, which random bytes would hide.
      throw new Error(`updateLayout could not read a real update: ${(err as Error).message}`);
    }
    const structs = layout.blocks.flatMap((block, b) => block.structs.map((s, i) => ({ block, b, s, i })));
    const choices: (() => Uint8Array | null)[] = [
      () => {
        // Another client id for a whole block: the same structs claimed by someone else (an honest client, say).
        if (layout.blocks.length === 0) return null;
        const block = this.pick(layout.blocks);
        const value = this.otherClient(layout, block.client.value);
        mutations.push(`client ${block.client.value} → ${value}`);
        return splice(update, block.client.start, block.client.end, varUint(value));
      },
      () => {
        // Another starting clock: a gap before it (pending) or an overlap with what exists.
        if (layout.blocks.length === 0) return null;
        const block = this.pick(layout.blocks);
        const value = Math.max(0, block.clock.value + this.pick([-3, -1, 1, 2, 7, 100]));
        mutations.push(`clock ${block.clock.value} → ${value}`);
        return splice(update, block.clock.start, block.clock.end, varUint(value));
      },
      () => {
        // An origin, right origin or parent ID pointing a little elsewhere.
        const ids = structs.flatMap(({ s }) => s.ids).concat(layout.deleteSpans);
        if (ids.length === 0) return null;
        const id = this.pick(ids);
        const value = Math.max(0, id.value + this.pick([-2, -1, 1, 3, 50]));
        mutations.push(`id varint ${id.value} → ${value}`);
        return splice(update, id.start, id.end, varUint(value));
      },
      () => {
        // Cut one struct: the block's later structs shift to earlier clocks.
        if (structs.length === 0) return null;
        const { block, s, i } = this.pick(structs);
        mutations.push(`cut struct ${i} of client ${block.client.value}`);
        const cut = splice(update, s.start, s.end, new Uint8Array(0));
        return splice(cut, block.numStructs.start, block.numStructs.end, varUint(block.numStructs.value - 1));
      },
      () => {
        // Duplicate one struct: the copy claims the next clocks.
        if (structs.length === 0) return null;
        const { block, s, i } = this.pick(structs);
        mutations.push(`duplicate struct ${i} of client ${block.client.value}`);
        const doubled = splice(update, s.end, s.end, update.slice(s.start, s.end));
        return splice(doubled, block.numStructs.start, block.numStructs.end, varUint(block.numStructs.value + 1));
      },
      () => {
        // Flip one of the info byte's bits: another content type, or an origin that is not there.
        if (structs.length === 0) return null;
        const { s, i } = this.pick(structs);
        const bit = 1 << this.int(8);
        mutations.push(`info of struct ${i}: ${s.info} ^ ${bit}`);
        const bytes = update.slice();
        bytes[s.start] = s.info ^ bit;
        return bytes;
      },
      () => this.spliceStruct(update, layout, mutations),
      () => {
        // Raw bytes from another real update over a stretch of this one.
        const other = this.pick(this.material);
        const from = this.int(other.length);
        const piece = other.slice(from, from + 1 + this.int(Math.min(16, other.length - from)));
        const at = this.int(update.length);
        mutations.push(`splice ${piece.length} bytes of another update at ${at}`);
        return splice(update, at, Math.min(update.length, at + this.int(piece.length + 1)), piece);
      },
    ];
    const count = 1 + (this.random() < 0.25 ? 1 : 0);
    let bytes = update;
    for (let k = 0; k < count; k++) {
      const result = this.pick(choices)();
      if (!result) continue;
      bytes = result;
      // A second mutation needs the layout of the first one's result; when that no longer reads, stop.
      if (k + 1 < count) {
        const next = tryReadUpdateLayout(bytes);
        if (!next) break; // unreadable after the first mutation: that is a mutation too, keep it
        layout = next;
        update = bytes;
        structs.splice(0, structs.length, ...layout.blocks.flatMap((block, b) => block.structs.map((s, i) => ({ block, b, s, i }))));
      }
    }
    return bytes;
  }

  /** A whole struct from another real update inserted into one of this update's blocks. */
  private spliceStruct(update: Uint8Array, layout: UpdateLayout, mutations: string[]): Uint8Array | null {
    const other = this.pick(this.material);
    let otherLayout: UpdateLayout;
    try {
      otherLayout = readUpdateLayout(other);
    } catch (err) {
      throw new Error(`updateLayout could not read a real update: ${(err as Error).message}`);
    }
    const donors = otherLayout.blocks.flatMap((b) => b.structs);
    if (donors.length === 0 || layout.blocks.length === 0) return null;
    const donor = this.pick(donors);
    const block = this.pick(layout.blocks);
    const at = block.structs.length === 0 ? block.clock.end : this.pick(block.structs).start;
    mutations.push(`struct from another update into client ${block.client.value}`);
    const inserted = splice(update, at, at, other.slice(donor.start, donor.end));
    return splice(inserted, block.numStructs.start, block.numStructs.end, varUint(block.numStructs.value + 1));
  }

  /** Another client id: one of the update's own, one the attacker has seen, or a new one. */
  private otherClient(layout: UpdateLayout, current: number): number {
    const known = [...new Set([...layout.blocks.map((b) => b.client.value), ...(this.attacker ? [...Y.decodeStateVector(Y.encodeStateVector(this.attacker)).keys()] : [])])].filter((c) => c !== current);
    if (known.length > 0 && this.random() < 0.8) return this.pick(known);
    return 1 + this.int(0x7ffffffe);
  }
}

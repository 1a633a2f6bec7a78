import { describe, expect, it } from 'vitest';
import { redo, undo } from 'y-prosemirror';
import { buildKeymap } from '../../lib/editor/keymap';
import { collaborativePlugins } from '../../lib/editor/plugins';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';

describe('keymap', () => {
  const keys = buildKeymap();

  it('binds the usual shortcuts', () => {
    for (const key of ['Mod-b', 'Mod-i', 'Mod-`', 'Mod-z', 'Mod-Shift-z', 'Enter', 'Tab', 'Shift-Tab', 'Mod-Alt-1', 'Mod-Alt-2', 'Mod-Alt-3']) {
      expect(keys[key], key).toBeTypeOf('function');
    }
  });

  it("uses y-prosemirror's undo and redo, which only undo this person's changes", () => {
    expect(keys['Mod-z']).toBe(undo);
    expect(keys['Mod-Shift-z']).toBe(redo);
  });
});

describe('collaborative plugins', () => {
  it('bind to the shared fragment and never include prosemirror-history', () => {
    const doc = new Y.Doc();
    const plugins = collaborativePlugins(doc.getXmlFragment('prosemirror'), new Awareness(doc));
    const keys = plugins.map((p) => (p as unknown as { key: string }).key);
    expect(keys.some((k) => k.startsWith('y-sync'))).toBe(true);
    expect(keys.some((k) => k.startsWith('yjs-cursor'))).toBe(true);
    expect(keys.some((k) => k.startsWith('y-undo'))).toBe(true);
    expect(keys.some((k) => k.startsWith('history'))).toBe(false);
  });
});

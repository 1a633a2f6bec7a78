import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => vi.restoreAllMocks());
import type { KeyValueStorage } from '../../lib/client/browserStorage';
import { cleanName, loadIdentity, MAX_NAME_LENGTH, PALETTE, saveName } from '../../lib/client/identity';

function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

describe('identity', () => {
  it('creates a named identity with a palette colour and keeps it for this browser', () => {
    const storage = memoryStorage();
    const first = loadIdentity(storage, () => 0.5);
    expect(first.name).toMatch(/^Anonymous \w+$/);
    expect(PALETTE).toContain(first.color);
    // Later loads return the same identity, whatever the random source says.
    expect(loadIdentity(storage, () => 0.99)).toEqual(first);
  });

  it('remembers a chosen name and keeps the colour', () => {
    const storage = memoryStorage();
    const me = loadIdentity(storage);
    const renamed = saveName(storage, me, '  Ada   Lovelace ');
    expect(renamed).toEqual({ name: 'Ada Lovelace', color: me.color });
    expect(loadIdentity(storage)).toEqual(renamed);
  });

  it('keeps the old name when the new one is blank', () => {
    const storage = memoryStorage();
    const me = saveName(storage, loadIdentity(storage), 'Grace');
    expect(saveName(storage, me, '   ').name).toBe('Grace');
  });

  it('cleans names: control characters, white space, length', () => {
    expect(cleanName('a\u0000b\nc\td')).toBe('abcd');
    expect(cleanName('x'.repeat(100))).toHaveLength(MAX_NAME_LENGTH);
  });

  it('replaces a stored identity that is unreadable or has a colour outside the palette', () => {
    // Not swallowed: the problem is logged.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const storage = memoryStorage();
    storage.setItem('concord:identity', '{broken');
    expect(PALETTE).toContain(loadIdentity(storage).color);
    expect(warn).toHaveBeenCalledOnce();
    storage.setItem('concord:identity', JSON.stringify({ name: 'Eve', color: 'red; background: url(x)' }));
    const fixed = loadIdentity(storage);
    expect(PALETTE).toContain(fixed.color);
  });
});

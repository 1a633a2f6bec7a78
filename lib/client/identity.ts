/** Who you are to collaborators: a name you choose and a colour, remembered in this browser. */
import type { KeyValueStorage } from './browserStorage';

export interface Identity {
  name: string;
  color: string;
}

const KEY = 'concord:identity';
export const MAX_NAME_LENGTH = 40;

/** Readable on white and distinct from each other. */
export const PALETTE = ['#d1242f', '#0969da', '#1a7f37', '#8250df', '#bf3989', '#9a6700', '#0a7ea4', '#cf222e', '#6639ba', '#116329'];

const ANIMALS = ['Otter', 'Heron', 'Lynx', 'Badger', 'Falcon', 'Marten', 'Ibex', 'Puffin', 'Gecko', 'Walrus'];

export function loadIdentity(storage: KeyValueStorage, random: () => number = Math.random): Identity {
  const raw = storage.getItem(KEY);
  if (raw) {
    try {
      const parsed = JSON.parse(raw) as Partial<Identity>;
      if (typeof parsed.name === 'string' && typeof parsed.color === 'string' && PALETTE.includes(parsed.color)) {
        return { name: cleanName(parsed.name) || 'Anonymous', color: parsed.color };
      }
    } catch (err) {
      console.warn('concord: ignoring unreadable identity', err);
    }
  }
  const identity = {
    name: `Anonymous ${ANIMALS[Math.floor(random() * ANIMALS.length)]}`,
    color: PALETTE[Math.floor(random() * PALETTE.length)]!,
  };
  storage.setItem(KEY, JSON.stringify(identity));
  return identity;
}

export function saveName(storage: KeyValueStorage, identity: Identity, name: string): Identity {
  const next = { ...identity, name: cleanName(name) || identity.name };
  storage.setItem(KEY, JSON.stringify(next));
  return next;
}

/** Trims, collapses white space and bounds the length; control characters are dropped. */
export function cleanName(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim().slice(0, MAX_NAME_LENGTH);
}

/**
 * localStorage that never throws: private modes and full quotas make it fail, and losing a
 * preference must never break the editor.
 */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function safeStorage(): KeyValueStorage {
  const backing = typeof window !== 'undefined' ? window.localStorage : undefined;
  return {
    getItem(key) {
      try {
        return backing?.getItem(key) ?? null;
      } catch (err) {
        console.warn('concord: could not read local storage', err);
        return null;
      }
    },
    setItem(key, value) {
      try {
        backing?.setItem(key, value);
      } catch (err) {
        console.warn('concord: could not write local storage', err);
      }
    },
    removeItem(key) {
      try {
        backing?.removeItem(key);
      } catch (err) {
        console.warn('concord: could not write local storage', err);
      }
    },
  };
}

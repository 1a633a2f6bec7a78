/**
 * KnownPeers: a first contact marks every document for the peer; when storage fails half-way,
 * the next link marks them all again instead of taking the peer for settled (else a region
 * restarted empty would never be rebuilt).
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { KnownPeers } from '../../server/replication/KnownPeers';
import { MemoryStore } from '../../server/storage/MemoryStore';

/** Fails the next `failures` calls of markAllDirty, and counts the calls. */
class FlakyMarkingStore extends MemoryStore {
  failures = 0;
  markings = 0;
  override async markAllDirty(peer: string): Promise<number> {
    this.markings++;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('storage unavailable (simulated)');
    }
    return super.markAllDirty(peer);
  }
}

describe('KnownPeers', () => {
  it('marks every document again at the next link when storage failed the first time', async () => {
    const store = new FlakyMarkingStore();
    await store.append('doc-a', [new Uint8Array([0, 0])]);
    const peers = new KnownPeers(store, pino({ level: 'silent' }));
    await peers.start();
    store.failures = 1;
    await expect(peers.linked('west', 'storage-w')).rejects.toThrow('storage unavailable');
    // Changes are marked for it meanwhile; and the full comparison is still owed.
    expect(peers.names()).toEqual(['west']);
    await peers.linked('west', 'storage-w');
    expect(store.markings).toBe(2);
    expect((await store.listBacklog('west', 10)).map((e) => e.docId)).toEqual(['doc-a']);
    expect(await store.knownPeers()).toEqual(new Map([['west', 'storage-w']]));
    // Settled now: linking again compares nothing in full.
    await peers.linked('west', 'storage-w');
    expect(store.markings).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { BusChannels } from '../../server/instances/BusChannels';

describe('BusChannels', () => {
  it('names every channel and key under the prefix, and reads a document back from its channel', () => {
    const channels = new BusChannels('concord:eu:');
    expect(channels.document('abc')).toBe('concord:eu:doc:abc');
    expect(channels.instances).toBe('concord:eu:instances');
    expect(channels.compactionLeasePrefix).toBe('concord:eu:compacting:');
    expect(channels.documentOf(channels.document('abc'))).toBe('abc');
    expect(channels.documentOf(channels.instances)).toBeNull();
    expect(channels.documentOf('concord:us:doc:abc')).toBeNull();
  });

  it('uses concord: when no prefix is given (the names tests and other tools rely on)', () => {
    expect(new BusChannels().document('abc')).toBe('concord:doc:abc');
    expect(new BusChannels().compactionLeasePrefix).toBe('concord:compacting:');
  });
});

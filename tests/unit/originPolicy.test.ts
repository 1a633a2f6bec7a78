/**
 * originPolicy: where a change of each origin goes. The rows that keep changes from echoing
 * (issue #12) and let a region of several instances share one set of region links (#13 item 5).
 */
import { describe, expect, it } from 'vitest';
import { routes, type Destination } from '../../server/relay/originPolicy';
import { SERVER_ORIGIN, STORAGE_ORIGIN, newClientOrigin, type ChangeOrigin } from '../../server/relay/origins';

const DESTINATIONS: Destination[] = ['storage', 'clients', 'regions', 'instances', 'history'];

function destinations(origin: ChangeOrigin): Destination[] {
  return DESTINATIONS.filter((d) => routes(origin, d));
}

describe('originPolicy', () => {
  it('sends a client\'s or the server\'s own change everywhere, the version history included', () => {
    expect(destinations(newClientOrigin())).toEqual(DESTINATIONS);
    expect(destinations(SERVER_ORIGIN)).toEqual(DESTINATIONS);
  });

  it('never sends a peer region\'s change over the links again', () => {
    expect(destinations({ kind: 'peer', peerId: 'us' })).toEqual(['storage', 'clients', 'instances']);
  });

  it('sends another instance\'s client change over this instance\'s links (it may hold them), never back to the bus', () => {
    expect(destinations({ kind: 'instance', instanceId: 'web-2' })).toEqual(['storage', 'clients', 'regions']);
  });

  it('keeps a peer region\'s change that another instance relayed off the links and the bus', () => {
    expect(destinations({ kind: 'instance', instanceId: 'web-2', fromPeerRegion: true })).toEqual(['storage', 'clients']);
  });

  it('records only the edits made here as versions: other instances\' and regions\' arrive as versions of theirs', () => {
    for (const origin of [{ kind: 'peer', peerId: 'us' }, { kind: 'instance', instanceId: 'web-2' }, STORAGE_ORIGIN] as ChangeOrigin[]) {
      expect(routes(origin, 'history')).toBe(false);
    }
  });

  it('only shows what was loaded from storage', () => {
    expect(destinations(STORAGE_ORIGIN)).toEqual(['clients']);
  });
});

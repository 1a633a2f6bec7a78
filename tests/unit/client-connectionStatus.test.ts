import { describe, expect, it } from 'vitest';
import {
  applyConnectionEvent,
  describeConnection,
  INITIAL_FACTS,
  shouldConnect,
  type ConnectionEvent,
  type ConnectionFacts,
} from '../../lib/client/connectionStatus';
import { CloseCode, describeCloseCode } from '../../lib/protocol/closeCodes';

const facts = (patch: Partial<ConnectionFacts>): ConnectionFacts => ({ ...INITIAL_FACTS, ...patch });

describe('describeConnection', () => {
  it('starts as connecting', () => {
    expect(describeConnection(INITIAL_FACTS)).toEqual({ status: 'connecting', text: 'Connecting…' });
  });

  it('is synced only when the socket is connected and the initial sync finished', () => {
    expect(describeConnection(facts({ socket: 'connected', synced: true }))).toEqual({ status: 'synced', text: 'All changes synced' });
    expect(describeConnection(facts({ socket: 'connected', synced: false })).status).toBe('connecting');
    // A stale "synced" from an earlier socket does not count while reconnecting.
    expect(describeConnection(facts({ socket: 'disconnected', synced: true })).status).toBe('connecting');
    expect(describeConnection(facts({ socket: 'connecting', synced: true })).status).toBe('connecting');
  });

  it('says offline whenever the browser has no network, whatever the socket thinks', () => {
    for (const socket of ['connecting', 'connected', 'disconnected'] as const) {
      const view = describeConnection(facts({ online: false, socket, synced: true }));
      expect(view.status).toBe('offline');
      expect(view.text).toMatch(/^Offline — .*kept on this device/);
    }
  });

  it('explains a permanent refusal, which wins over everything else', () => {
    const refusal = { code: CloseCode.forbidden, reason: 'rotated' };
    expect(describeConnection(facts({ refusal, online: false }))).toEqual({
      status: 'refused',
      text: describeCloseCode(CloseCode.forbidden),
    });
    expect(describeConnection(facts({ refusal, socket: 'connected', synced: true })).status).toBe('refused');
  });

  it('gives every status a non-empty human text', () => {
    const cases: ConnectionFacts[] = [
      INITIAL_FACTS,
      facts({ socket: 'connected', synced: true }),
      facts({ online: false }),
      facts({ refusal: { code: 4499, reason: '' } }),
    ];
    for (const c of cases) expect(describeConnection(c).text.length).toBeGreaterThan(5);
  });
});

describe('applyConnectionEvent', () => {
  const fold = (events: ConnectionEvent[], start: ConnectionFacts = INITIAL_FACTS) =>
    events.reduce(applyConnectionEvent, start);
  const status = (events: ConnectionEvent[], start?: ConnectionFacts) => describeConnection(fold(events, start)).status;

  it('goes connecting → synced once the socket is open and the first sync is done', () => {
    expect(status([{ type: 'socket', status: 'connecting', providerSynced: false }])).toBe('connecting');
    expect(status([{ type: 'socket', status: 'connected', providerSynced: false }])).toBe('connecting');
    expect(status([{ type: 'socket', status: 'connected', providerSynced: false }, { type: 'sync', synced: true }])).toBe('synced');
    // y-websocket may report sync before the status event: the provider's flag carries it over.
    expect(status([{ type: 'sync', synced: true }, { type: 'socket', status: 'connected', providerSynced: true }])).toBe('synced');
  });

  it('needs a fresh sync after the socket drops and comes back', () => {
    const synced = fold([{ type: 'socket', status: 'connected', providerSynced: false }, { type: 'sync', synced: true }]);
    const dropped = fold([{ type: 'socket', status: 'disconnected', providerSynced: false }], synced);
    expect(dropped.synced).toBe(false);
    expect(status([{ type: 'socket', status: 'connected', providerSynced: false }], dropped)).toBe('connecting');
  });

  it('goes offline with the browser and back to connecting, then synced, when it returns', () => {
    const synced = fold([{ type: 'socket', status: 'connected', providerSynced: false }, { type: 'sync', synced: true }]);
    const offline = fold([{ type: 'network', online: false }], synced);
    expect(describeConnection(offline).status).toBe('offline');
    expect(shouldConnect(offline)).toBe(false);
    const back = fold([{ type: 'network', online: true }], offline);
    expect(shouldConnect(back)).toBe(true);
    expect(describeConnection(back).status).toBe('connecting');
    expect(
      status([{ type: 'socket', status: 'connected', providerSynced: false }, { type: 'sync', synced: true }], back),
    ).toBe('synced');
  });

  it('ignores transient closes and sticks to a permanent refusal, never reconnecting', () => {
    for (const code of [1000, 1001, 1006, CloseCode.documentUnavailable, CloseCode.rateLimited]) {
      expect(fold([{ type: 'closed', code, reason: '' }]).refusal).toBeNull();
    }
    const refused = fold([
      { type: 'socket', status: 'connected', providerSynced: true },
      { type: 'closed', code: CloseCode.documentDeleted, reason: 'deleted' },
      { type: 'socket', status: 'disconnected', providerSynced: false },
      { type: 'network', online: false },
      { type: 'network', online: true },
    ]);
    expect(describeConnection(refused)).toEqual({ status: 'refused', text: describeCloseCode(CloseCode.documentDeleted) });
    expect(shouldConnect(refused)).toBe(false);
  });
});

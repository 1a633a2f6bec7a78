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

  it('is saved only when the socket is connected, the initial sync finished and nothing is unsaved', () => {
    expect(describeConnection(facts({ socket: 'connected', synced: true }))).toEqual({ status: 'saved', text: 'All changes saved' });
    expect(describeConnection(facts({ socket: 'connected', synced: true, unsaved: 3 }))).toEqual({ status: 'saving', text: 'Saving…' });
    expect(describeConnection(facts({ socket: 'connected', synced: false })).status).toBe('connecting');
    // A stale "synced" from an earlier socket does not count while reconnecting.
    expect(describeConnection(facts({ socket: 'disconnected', synced: true })).status).toBe('connecting');
    expect(describeConnection(facts({ socket: 'connecting', synced: true })).status).toBe('connecting');
  });

  it('says offline whenever the browser has no network, whatever the socket thinks', () => {
    for (const socket of ['connecting', 'connected', 'disconnected'] as const) {
      const view = describeConnection(facts({ online: false, socket, synced: true }));
      expect(view.status).toBe('offline');
      expect(view.text).toMatch(/^Offline — .*on this device/);
    }
  });

  it('counts the edits kept on this device that the server has not stored', () => {
    expect(describeConnection(facts({ online: false, unsaved: 12 })).text).toBe('Offline — 12 edits kept on this device, not yet saved');
    expect(describeConnection(facts({ online: false, unsaved: 1 })).text).toBe('Offline — 1 edit kept on this device, not yet saved');
    expect(describeConnection(facts({ online: false, unsaved: 0 })).text).toBe('Offline — all changes saved; new edits stay on this device');
    expect(describeConnection(facts({ unreachable: true, unsaved: 1234 }))).toEqual({
      status: 'offline',
      text: 'Can’t reach the server — 1,234 edits kept on this device, not yet saved',
    });
    expect(describeConnection(facts({ unsaved: 2 })).text).toBe('Connecting… 2 edits kept on this device, not yet saved');
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
      facts({ socket: 'connected', synced: true, unsaved: 1 }),
      facts({ unreachable: true }),
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

  it('goes connecting → saved once the socket is open and the first sync is done', () => {
    expect(status([{ type: 'socket', status: 'connecting', providerSynced: false }])).toBe('connecting');
    expect(status([{ type: 'socket', status: 'connected', providerSynced: false }])).toBe('connecting');
    expect(status([{ type: 'socket', status: 'connected', providerSynced: false }, { type: 'sync', synced: true }])).toBe('saved');
    // y-websocket may report sync before the status event: the provider's flag carries it over.
    expect(status([{ type: 'sync', synced: true }, { type: 'socket', status: 'connected', providerSynced: true }])).toBe('saved');
  });

  it('needs a fresh sync after the socket drops and comes back', () => {
    const synced = fold([{ type: 'socket', status: 'connected', providerSynced: false }, { type: 'sync', synced: true }]);
    const dropped = fold([{ type: 'socket', status: 'disconnected', providerSynced: false }], synced);
    expect(dropped.synced).toBe(false);
    expect(status([{ type: 'socket', status: 'connected', providerSynced: false }], dropped)).not.toBe('saved');
  });

  it('goes offline with the browser and back to connecting, then saved, when it returns', () => {
    const synced = fold([{ type: 'socket', status: 'connected', providerSynced: false }, { type: 'sync', synced: true }]);
    const offline = fold([{ type: 'network', online: false }], synced);
    expect(describeConnection(offline).status).toBe('offline');
    expect(shouldConnect(offline)).toBe(false);
    const back = fold([{ type: 'network', online: true }], offline);
    expect(shouldConnect(back)).toBe(true);
    expect(describeConnection(back).status).toBe('connecting');
    expect(
      status([{ type: 'socket', status: 'connected', providerSynced: false }, { type: 'sync', synced: true }], back),
    ).toBe('saved');
  });

  it('says the server is unreachable after a socket closes, through every retry, until a sync succeeds', () => {
    const saved = fold([{ type: 'socket', status: 'connected', providerSynced: false }, { type: 'sync', synced: true }]);
    const dropped = fold([{ type: 'socket', status: 'disconnected', providerSynced: false }], saved);
    expect(describeConnection(dropped).status).toBe('offline');
    // y-websocket reports "connecting" at every retry: that must not flip the status back and forth.
    const retrying = fold([{ type: 'socket', status: 'connecting', providerSynced: false }], dropped);
    expect(describeConnection(retrying).status).toBe('offline');
    const connectedNotSynced = fold([{ type: 'socket', status: 'connected', providerSynced: false }], retrying);
    expect(describeConnection(connectedNotSynced).status).toBe('offline');
    expect(status([{ type: 'sync', synced: true }], connectedNotSynced)).toBe('saved');
  });

  it('is saving while edits are unsaved and saved when the count drops to zero', () => {
    const saved = fold([{ type: 'socket', status: 'connected', providerSynced: false }, { type: 'sync', synced: true }]);
    expect(status([{ type: 'unsaved', count: 2 }], saved)).toBe('saving');
    expect(status([{ type: 'unsaved', count: 2 }, { type: 'unsaved', count: 0 }], saved)).toBe('saved');
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

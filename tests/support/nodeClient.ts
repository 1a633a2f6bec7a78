/** Headless Concord clients in Node: the stock y-websocket provider with a capability token. */
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';
import { ACK_MESSAGE_TYPE, CONCORD_PROTOCOL_PARAM, CONCORD_PROTOCOL_VERSION, DIGEST_MESSAGE_TYPE, MARK_MESSAGE_TYPE } from '../../lib/protocol/ackExtension';
import type { KeyValueStorage } from '../../lib/client/browserStorage';
import { ClientIdClaims } from '../../lib/client/ClientIdClaims';

export interface NodeClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  /** Resolves after the first completed sync with the server. */
  synced: Promise<void>;
  destroy(): void;
}

export function connectClient(wsUrl: string, docId: string, token: string, doc = new Y.Doc(), params: Record<string, string> = {}): NodeClient {
  const provider = new WebsocketProvider(wsUrl, docId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    params: { token, ...params },
  });
  const synced = new Promise<void>((resolve) => {
    if (provider.synced) resolve();
    else provider.once('sync', () => resolve());
  });
  return {
    doc,
    provider,
    synced,
    destroy() {
      provider.destroy();
      doc.destroy();
    },
  };
}

/** Local storage for one Node "browser": shared by the editors that should act as its tabs. */
export function memoryStorage(): KeyValueStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

export interface EditorClient extends NodeClient {
  claims: ClientIdClaims;
}

/**
 * A headless client that speaks Concord's protocol extension and claims its client ids as the
 * editor does (lib/client/ClientIdClaims); acks and digest answers are received and ignored.
 */
export function connectEditorClient(wsUrl: string, docId: string, token: string, doc = new Y.Doc(), storage = memoryStorage()): EditorClient {
  const provider = new WebsocketProvider(wsUrl, docId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    connect: false,
    params: { token, [CONCORD_PROTOCOL_PARAM]: String(CONCORD_PROTOCOL_VERSION) },
  });
  for (const type of [ACK_MESSAGE_TYPE, MARK_MESSAGE_TYPE, DIGEST_MESSAGE_TYPE]) provider.messageHandlers[type] = () => undefined;
  const claims = new ClientIdClaims(doc, provider, storage, docId);
  provider.connect();
  const synced = new Promise<void>((resolve) => provider.once('sync', () => resolve()));
  return {
    doc,
    provider,
    synced,
    claims,
    destroy() {
      claims.destroy();
      provider.destroy();
      doc.destroy();
    },
  };
}

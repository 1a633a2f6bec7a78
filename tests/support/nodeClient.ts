/** Headless Concord clients in Node: the stock y-websocket provider with a capability token. */
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';

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

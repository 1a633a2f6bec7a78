/** A bare WebSocket client for protocol-level tests: sends any bytes, records what comes back. */
import WebSocket from 'ws';

export interface RawSocket {
  ws: WebSocket;
  /** Binary frames received so far. */
  received: Uint8Array[];
  /** Resolves with the close code and reason, or the HTTP status if the upgrade was refused. */
  closed: Promise<{ code: number; reason: string; httpStatus?: number }>;
  /** Resolves once open (rejects if refused before opening). */
  opened: Promise<void>;
  send(frame: Uint8Array | string): void;
  /** Resolves 'matched' at the next binary frame that satisfies `test`, or 'closed' if the socket closes first. */
  waitFor(test: (frame: Uint8Array) => boolean): Promise<'matched' | 'closed'>;
}

export function openRawSocket(url: string): RawSocket {
  const ws = new WebSocket(url);
  const received: Uint8Array[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) received.push(new Uint8Array(data));
  });
  let refusedStatus: number | undefined;
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      refusedStatus = res.statusCode;
      res.resume();
      reject(new Error(`upgrade refused with HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
  opened.catch(() => undefined); // Callers that only care about `closed` need not handle this.
  const closed = new Promise<{ code: number; reason: string; httpStatus?: number }>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), httpStatus: refusedStatus }));
  });
  return {
    ws,
    received,
    closed,
    opened,
    send(frame) {
      if (ws.readyState === WebSocket.OPEN) ws.send(frame, { binary: typeof frame !== 'string' });
    },
    waitFor(test) {
      if (ws.readyState === WebSocket.CLOSED) return Promise.resolve('closed');
      return new Promise((resolve) => {
        const onMessage = (data: Buffer, isBinary: boolean) => {
          if (!isBinary || !test(new Uint8Array(data))) return;
          done('matched');
        };
        const onClose = () => done('closed');
        const done = (outcome: 'matched' | 'closed') => {
          ws.off('message', onMessage);
          ws.off('close', onClose);
          resolve(outcome);
        };
        ws.on('message', onMessage);
        ws.on('close', onClose);
      });
    },
  };
}

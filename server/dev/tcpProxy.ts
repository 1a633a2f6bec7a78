/**
 * A TCP proxy a test (or `npm run regions`) controls, for real partitions: `cut()` destroys every connection through it
 * and refuses new ones (the peers see broken TCP, as when a link between datacenters fails);
 * `heal()` lets connections through again.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  /** http://127.0.0.1:<port> of the proxy. */
  url: string;
  port: number;
  cut(): void;
  heal(): void;
  readonly isCut: boolean;
  /** Connections accepted so far (tests check a cut was real). */
  readonly connectionsAccepted: number;
  close(): Promise<void>;
}

/** `targetPort` is read for each new connection, so a proxy can exist before its target listens. */
export async function startTcpProxy(targetPort: () => number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let cut = false;
  let accepted = 0;
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = net.connect(targetPort(), targetHost);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    cut() {
      cut = true;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    heal() {
      cut = false;
    },
    get isCut() {
      return cut;
    },
    get connectionsAccepted() {
      return accepted;
    },
    async close() {
      cut = true;
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Hocuspocus, bare: its Server with no extensions and no hooks (no persistence, no auth check).
 * A program on its own, run as plain JavaScript (plainNode.ts):
 *   PORT=0 node hocuspocusMain.mjs   → prints {"msg":"listening","port":N}
 */
import type { AddressInfo } from 'node:net';
import { Server } from '@hocuspocus/server';

const server = new Server({ port: Number(process.env.PORT ?? 0), address: '127.0.0.1', quiet: true, stopOnSignals: true });
await server.listen();
console.log(JSON.stringify({ msg: 'listening', port: (server.httpServer.address() as AddressInfo).port }));

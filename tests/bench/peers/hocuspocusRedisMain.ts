/**
 * Hocuspocus scaled out as its documentation does it: its Server with @hocuspocus/extension-redis
 * and nothing else (in memory, no persistence, no auth check). One instance of several sharing a
 * Redis; run as plain JavaScript (plainNode.ts):
 *   PORT=0 REDIS_URL=redis://127.0.0.1:6379 INSTANCE_ID=hp-1 node hocuspocusRedisMain.mjs
 *   → prints {"msg":"listening","port":N}
 */
import type { AddressInfo } from 'node:net';
import { Redis } from '@hocuspocus/extension-redis';
import { Server } from '@hocuspocus/server';

const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const server = new Server({
  port: Number(process.env.PORT ?? 0),
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: true,
  extensions: [
    new Redis({
      host: redisUrl.hostname,
      port: Number(redisUrl.port || 6379),
      ...(process.env.INSTANCE_ID ? { identifier: process.env.INSTANCE_ID } : {}),
    }),
  ],
});
await server.listen();
console.log(JSON.stringify({ msg: 'listening', port: (server.httpServer.address() as AddressInfo).port }));

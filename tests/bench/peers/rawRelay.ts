/**
 * The lower bound: a relay that forwards every frame to the other sockets on the same URL path,
 * without parsing it. It holds no document, so it cannot sync a newcomer or store anything; what
 * it costs is the floor of what any relay built on `ws` costs.
 *
 * A program on its own (node builtins and `ws` only), run as plain JavaScript (plainNode.ts):
 *   PORT=0 node rawRelay.mjs   → prints {"msg":"listening","port":N}
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

const rooms = new Map<string, Set<WebSocket>>();
const server = http.createServer((_req, res) => {
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server });

wss.on('connection', (ws, req) => {
  const key = (req.url ?? '/').split('?')[0]!;
  let room = rooms.get(key);
  if (!room) rooms.set(key, (room = new Set()));
  const members = room;
  members.add(ws);
  ws.on('message', (data, isBinary) => {
    for (const other of members) {
      if (other !== ws && other.readyState === WebSocket.OPEN) other.send(data, { binary: isBinary });
    }
  });
  ws.on('close', () => {
    members.delete(ws);
    if (members.size === 0 && rooms.get(key) === members) rooms.delete(key);
  });
  ws.on('error', (err) => console.error(`raw relay: socket error on ${key}: ${err.message}`));
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'listening', port: (server.address() as AddressInfo).port }));
});

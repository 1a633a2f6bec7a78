// @ts-check
/**
 * The web app's own process (`npm start` forks it; see server/webApp.ts): Next.js serving the
 * pages on a loopback port that the Concord server proxies to. Plain JavaScript so that it runs
 * without a build step of its own. It leaves when its parent does, even a parent SIGKILLed: the
 * IPC channel closes with the parent.
 *   argv: <project dir> <public hostname> <public port>
 */
import http from 'node:http';
import next from 'next';

const [dir, hostname, port] = process.argv.slice(2);
process.on('disconnect', () => process.exit(0));

const app = next({ dev: false, dir, hostname, port: Number(port) });
await app.prepare();
const handle = app.getRequestHandler();
const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error('concord web app: request failed', err);
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Internal server error\n');
    else res.destroy();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('SIGTERM', () => {
  server.close();
  void app.close().finally(() => process.exit(0));
});

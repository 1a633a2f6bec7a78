/**
 * The benchmark's link proxies in a process of their own (LinkProxies.ts starts it): the load
 * generator's event loop, busy with thousands of frames a second, must not delay the links it
 * measures. Commands arrive as JSON lines on stdin; each is answered with a JSON line on stdout
 * carrying the same `seq`.
 *
 *   {"seq":1,"cmd":"add","id":"a>b","target":"b","delayMs":100} → {"seq":1,"port":N}
 *   {"seq":2,"cmd":"target","target":"b","port":N}                → {"seq":2}
 *   {"seq":3,"cmd":"cut"|"heal","id":"a>b"}                       → {"seq":3}
 */
import readline from 'node:readline';
import { startTcpProxy, type TcpProxy } from '../../../server/dev/tcpProxy';

type Command =
  | { seq: number; cmd: 'add'; id: string; target: string; delayMs: number }
  | { seq: number; cmd: 'target'; target: string; port: number }
  | { seq: number; cmd: 'cut' | 'heal'; id: string };

const proxies = new Map<string, TcpProxy>();
/** Port each target region listens on; 0 (refused) until it is known. */
const ports = new Map<string, number>();

function proxy(id: string): TcpProxy {
  const found = proxies.get(id);
  if (!found) throw new RangeError(`no proxy ${id}`);
  return found;
}

async function handle(command: Command): Promise<Record<string, unknown>> {
  switch (command.cmd) {
    case 'add': {
      const started = await startTcpProxy(() => ports.get(command.target) ?? 0, '127.0.0.1', { delayMs: command.delayMs });
      proxies.set(command.id, started);
      return { port: started.port };
    }
    case 'target':
      ports.set(command.target, command.port);
      return {};
    case 'cut':
      proxy(command.id).cut();
      return {};
    case 'heal':
      proxy(command.id).heal();
      return {};
  }
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const command = JSON.parse(line) as Command;
  handle(command).then(
    (answer) => console.log(JSON.stringify({ seq: command.seq, ...answer })),
    (err: unknown) => console.log(JSON.stringify({ seq: command.seq, error: err instanceof Error ? err.message : String(err) })),
  );
});
// The parent closed our stdin (it is done, or it died): nothing may outlive it.
lines.on('close', () => process.exit(0));

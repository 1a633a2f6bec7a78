/**
 * A private Redis for one test: `redis-server` on a free port with no persistence, so a restart
 * loses everything (as a crashed Redis does). Kill it and start it again on the same port; drop
 * its pub/sub connections on purpose (`dropSubscribers`: what a Redis does to a subscriber that
 * reads too slowly, or a network blip), or the publishing ones, and every message published
 * meanwhile is lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { Redis } from 'ioredis';
import { freePort } from '../bench/peers/childServer';
import { killOnExit } from './killOnExit';

const START_TIMEOUT_MS = 10_000;


export interface RedisServer {
  port: number;
  url: string;
  /** Closes every pub/sub connection (CLIENT KILL TYPE pubsub); returns how many. */
  dropSubscribers(): Promise<number>;
  /** Closes every other connection (CLIENT KILL TYPE normal): the publishers; returns how many. */
  dropPublishers(): Promise<number>;
  /** SIGKILLs the server; `start` brings it back, empty, on the same port. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Kills it for good. */
  stop(): Promise<void>;
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;
  const start = async () => {
    if (child) throw new Error('redis-server is already running');
    child = await spawnRedis(port);
  };
  const kill = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    port,
    url,
    dropSubscribers: () => clientKill(url, ['TYPE', 'pubsub']),
    dropPublishers: () => clientKill(url, ['TYPE', 'normal', 'SKIPME', 'yes']),
    kill,
    start,
    stop: kill,
  };
}

async function clientKill(url: string, filter: string[]): Promise<number> {
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await admin.connect();
    return Number(await admin.call('CLIENT', 'KILL', ...filter));
  } finally {
    admin.disconnect();
  }
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const lines = readline.createInterface({ input: child.stdout! });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${START_TIMEOUT_MS} ms\n${output}`)), START_TIMEOUT_MS);
    lines.on('line', (line) => {
      output += `${line}\n`;
      if (line.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run redis-server (is it installed?): ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (code ${code}) before it was ready\n${output}`));
    });
  });
  // Keep draining its output so a full pipe never blocks it.
  child.stderr!.resume();
  return child;
}


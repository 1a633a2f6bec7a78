/**
 * A region's servers for the instances benchmark (issue #13): one Concord relay, or several
 * instances of Concord or of Hocuspocus (with @hocuspocus/extension-redis), each its own process,
 * sharing a private redis-server. Concord's instances share one SQLite data directory (WAL), as
 * the README's "Several instances per region" runs them on one machine.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { mintDocument } from '../../../lib/auth/capabilities';
import { startRedisServer, type RedisServer } from '../../support/redisServer';
import { startRelayProcess } from '../../support/relayProcess';
import { TempDirs } from '../../support/tempDirs';
import { hocuspocusFraming, yWebsocketFraming, type BenchDocument, type Framing } from '../load/framing';
import { jsonListeningPort, startChildServer } from '../peers/childServer';
import { forwardedFor } from '../peers/concord';
import { plainNodeProgram } from '../peers/plainNode';
import { sumSeries } from '../../support/prometheusText';

export type ServerKind = 'concord' | 'hocuspocus';

export interface DeploymentSpec {
  kind: ServerKind;
  instances: number;
}

export interface Instance {
  name: string;
  /** The server's own node process. */
  pid: number;
  /** http://127.0.0.1:<port> */
  url: string;
  framing: Framing;
}

/** Concord's bus counters, summed over its instances (README, "/metrics with REDIS_URL"). */
export interface BusCounters {
  gapsDetected: number;
  recoveries: number;
  reconnects: number;
}

export class Deployment {
  private constructor(
    readonly spec: DeploymentSpec,
    readonly instances: Instance[],
    readonly redis: RedisServer | null,
    /** redis-server's pid (from INFO), to read its CPU time too. */
    readonly redisPid: number | null,
    private readonly stops: (() => Promise<unknown>)[],
    private readonly dirs: TempDirs,
  ) {}

  /** Starts the instances (and a Redis when there are several), all at once. */
  static async start(spec: DeploymentSpec): Promise<Deployment> {
    const dirs = new TempDirs();
    const stops: (() => Promise<unknown>)[] = [];
    const stopAll = async () => {
      for (const stop of stops.splice(0).reverse()) await stop();
      dirs.removeAll();
    };
    try {
      const redis = spec.instances > 1 ? await startRedisServer() : null;
      if (redis) stops.push(() => redis.stop());
      const redisPid = redis ? await redisProcessId(redis.url) : null;
      const dataDir = dirs.make('concord-instances-bench-');
      const names = Array.from({ length: spec.instances }, (_, i) => `${spec.kind === 'concord' ? 'concord' : 'hp'}-${i + 1}`);
      const instances = await Promise.all(
        names.map((name) => (spec.kind === 'concord' ? startConcord(name, dataDir, redis, stops) : startHocuspocus(name, redis, stops))),
      );
      return new Deployment(spec, instances, redis, redisPid, stops, dirs);
    } catch (err) {
      await stopAll();
      throw err;
    }
  }

  /** A new, empty document (Concord: with a real edit capability). */
  newDocument(): BenchDocument {
    if (this.spec.kind === 'hocuspocus') return { name: randomUUID(), token: 'bench' };
    const caps = mintDocument();
    return { name: caps.docId, token: caps.edit };
  }

  /** Concord sits behind a proxy (TRUST_PROXY): every client its own address, as there. */
  clientHeaders(n: number): Record<string, string> {
    return this.spec.kind === 'concord' ? forwardedFor(n) : {};
  }

  /** Concord's gaps/recoveries/reconnects from every instance's /metrics; null for Hocuspocus or a lone instance. */
  async busCounters(): Promise<BusCounters | null> {
    if (this.spec.kind !== 'concord' || !this.redis) return null;
    const total: BusCounters = { gapsDetected: 0, recoveries: 0, reconnects: 0 };
    for (const instance of this.instances) {
      const text = await (await fetch(`${instance.url}/metrics`)).text();
      total.gapsDetected += sumSeries(text, 'concord_bus_gaps_detected_total');
      total.recoveries += sumSeries(text, 'concord_bus_recoveries_total');
      total.reconnects += sumSeries(text, 'concord_bus_reconnects_total');
    }
    return total;
  }

  /** How many pub/sub connections Redis has now (each instance's subscriber, once it is back). */
  async subscriberConnections(): Promise<number> {
    if (!this.redis) return 0;
    const admin = new Redis(this.redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await admin.connect();
      const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      return list.split('\n').filter((line) => line.trim()).length;
    } finally {
      admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) await stop();
    this.dirs.removeAll();
  }
}

async function startConcord(name: string, dataDir: string, redis: RedisServer | null, stops: (() => Promise<unknown>)[]): Promise<Instance> {
  const relay = await startRelayProcess(dataDir, {
    TRUST_PROXY: 'true',
    LOG_LEVEL: 'info',
    ...(redis ? { REDIS_URL: redis.url, INSTANCE_ID: name } : {}),
  });
  // A SIGKILLed process writes no CPU profile (BENCH_CPU_PROF).
  stops.push(() => relay.stop(process.env.BENCH_CPU_PROF ? 'SIGTERM' : 'SIGKILL'));
  return {
    name,
    pid: relay.child.pid!,
    url: relay.url,
    framing: yWebsocketFraming((doc) => `${relay.wsUrl}/${doc.name}?token=${doc.token}`),
  };
}

async function startHocuspocus(name: string, redis: RedisServer | null, stops: (() => Promise<unknown>)[]): Promise<Instance> {
  const program = redis ? 'hocuspocusRedisMain.ts' : 'hocuspocusMain.ts';
  const server = await startChildServer({
    args: [plainNodeProgram(program)],
    env: { PORT: '0', ...(redis ? { REDIS_URL: redis.url, INSTANCE_ID: name } : {}) },
    listeningPort: jsonListeningPort,
  });
  stops.push(() => server.stop('SIGKILL'));
  return {
    name,
    pid: server.pid,
    url: `http://127.0.0.1:${server.port}`,
    // One socket per client here; the path is not used.
    framing: hocuspocusFraming(() => `ws://127.0.0.1:${server.port}/`),
  };
}


async function redisProcessId(url: string): Promise<number> {
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await admin.connect();
    const info = await admin.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    if (!Number.isInteger(pid)) throw new Error('redis INFO has no process_id');
    return pid;
  } finally {
    admin.disconnect();
  }
}

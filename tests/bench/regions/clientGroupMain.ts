/**
 * One group of region-lag clients in a process of its own (ClientGroup.ts drives it over IPC):
 * every client's arrival times are read on this process's event loop, not on one loop shared by
 * every client of the run. Times cross the process boundary as epoch milliseconds
 * (performance.timeOrigin + performance.now()), which processes on one machine share.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as Y from 'yjs';
import { seededRandom } from '../../support/fuzzFrames';
import { BenchClient } from '../load/BenchClient';
import { yWebsocketFraming } from '../load/framing';
import { runWriters } from '../load/writers';
import { clientHeaders } from './BenchRegions';
import type { GroupCommand, GroupReply, GroupSpec } from './clientGroupProtocol';

const DRAIN_QUIET_MS = 3_000;
const DRAIN_MAX_MS = 30_000;
const LOOP_DELAY_RESOLUTION_MS = 5;

let clients: BenchClient[] = [];
let spec: GroupSpec | null = null;
let lastFrameAt = performance.now();

const toEpoch = (t: number) => performance.timeOrigin + t;
const fromEpoch = (t: number) => t - performance.timeOrigin;

function reply(message: GroupReply): void {
  process.send!(message);
}

async function handle(command: GroupCommand): Promise<void> {
  switch (command.cmd) {
    case 'connect': {
      spec = command.spec;
      const framing = yWebsocketFraming((d) => `${command.spec.wsUrl}/${d.name}?token=${d.token}`);
      clients = Array.from(
        { length: command.spec.clients },
        (_, i) =>
          new BenchClient({
            framing,
            doc: command.spec.doc,
            writer: i < command.spec.writers,
            headers: clientHeaders(command.spec.firstClientIndex + i),
            onFrame: () => (lastFrameAt = performance.now()),
          }),
      );
      await Promise.all(clients.map((c) => c.ready));
      reply({ type: 'connected', writerIds: clients.filter((c) => c.isWriter).map((c) => c.clientId) });
      return;
    }
    case 'write': {
      const writers = clients.filter((c) => c.isWriter);
      const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
      loopDelay.enable();
      const cpuBefore = process.cpuUsage();
      await runWriters(writers, spec!.opsPerSecond, fromEpoch(command.startAt), fromEpoch(command.endAt), seededRandom(spec!.seed), spec!.slot);
      const cpu = process.cpuUsage(cpuBefore);
      loopDelay.disable();
      reply({
        type: 'written',
        operations: writers.reduce((sum, w) => sum + w.operations, 0),
        cpuMs: (cpu.user + cpu.system) / 1000,
        // The histogram records whole intervals between its timer's runs: less the resolution, that is delay.
        loopDelay: {
          p99: Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_DELAY_RESOLUTION_MS),
          max: Math.max(0, loopDelay.max / 1e6 - LOOP_DELAY_RESOLUTION_MS),
        },
      });
      return;
    }
    case 'collect': {
      // Until nothing arrived for a while: the other groups' last operations are still crossing.
      const started = performance.now();
      lastFrameAt = started;
      while (performance.now() - lastFrameAt < DRAIN_QUIET_MS && performance.now() - started < DRAIN_MAX_MS) await new Promise((r) => setTimeout(r, 50));
      reply({
        type: 'records',
        clients: clients.map((c) => ({
          isWriter: c.isWriter,
          clientId: c.isWriter ? c.clientId : null,
          appliedAt: c.appliedAt.map(toEpoch),
          received: c.received.map(({ at, update }) => ({ at: toEpoch(at), update })),
          // A writer's replica holds its own operations as well as what it received.
          state: c.isWriter ? Y.encodeStateAsUpdate(c.materialize()) : null,
          closedAfterReady: c.closedAfterReady,
        })),
      });
      return;
    }
    case 'close':
      for (const c of clients) c.close();
      reply({ type: 'closed' });
      process.disconnect();
      return;
  }
}

process.on('message', (command: GroupCommand) => {
  handle(command).catch((err: unknown) => reply({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
});

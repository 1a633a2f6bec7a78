/**
 * A group of region-lag clients in a child process (clientGroupMain.ts), and what they recorded,
 * brought back as RecordedClients with times on this process's performance.now() clock.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import * as Y from 'yjs';
import { REPO_ROOT } from '../peers/childServer';
import type { ClientRecord, GroupCommand, GroupReply, GroupSpec } from './clientGroupProtocol';

const MAIN = path.join(REPO_ROOT, 'tests', 'bench', 'regions', 'clientGroupMain.ts');
const REMOTE = Symbol('recorded');

/** One client as recorded in its group's process (what measureDeliveries and the convergence check read). */
export class RecordedClient {
  readonly isWriter: boolean;
  readonly clientId: number;
  readonly appliedAt: number[];
  readonly received: { at: number; update: Uint8Array }[];
  readonly closedAfterReady: number | null;
  private replica: Y.Doc | null = null;

  constructor(private readonly record: ClientRecord) {
    const fromEpoch = (t: number) => t - performance.timeOrigin;
    this.isWriter = record.isWriter;
    this.clientId = record.clientId ?? -1;
    this.appliedAt = record.appliedAt.map(fromEpoch);
    this.received = record.received.map(({ at, update }) => ({ at: fromEpoch(at), update }));
    this.closedAfterReady = record.closedAfterReady;
  }

  /** The client's replica: a writer's as it was, a reader's built from what it received. */
  materialize(): Y.Doc {
    if (this.replica) return this.replica;
    const doc = new Y.Doc();
    doc.transact(() => {
      if (this.record.state) Y.applyUpdate(doc, this.record.state, REMOTE);
      else for (const { update } of this.received) Y.applyUpdate(doc, update, REMOTE);
    }, REMOTE);
    this.replica = doc;
    return doc;
  }
}

export class ClientGroup {
  private readonly child: ChildProcess;
  private readonly replies: GroupReply[] = [];
  private waiter: ((reply: GroupReply) => void) | null = null;
  private stderr = '';
  private exited = false;

  private constructor() {
    this.child = fork(MAIN, [], { cwd: REPO_ROOT, execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    this.child.on('message', (reply: GroupReply) => {
      if (this.waiter) {
        const waiter = this.waiter;
        this.waiter = null;
        waiter(reply);
      } else this.replies.push(reply);
    });
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      this.waiter?.({ type: 'error', message: `the client group's process exited (code ${code}, signal ${signal})\n${this.stderr}` });
      this.waiter = null;
    });
  }

  /** Starts the process and connects its clients; resolves with its writers' Yjs client ids. */
  static async start(spec: GroupSpec): Promise<{ group: ClientGroup; writerIds: number[] }> {
    const group = new ClientGroup();
    const connected = await group.ask({ cmd: 'connect', spec }, 'connected');
    return { group, writerIds: connected.writerIds };
  }

  /** Its writers write from `startAt` to `endAt` (this process's performance.now()). */
  write(startAt: number, endAt: number): Promise<Extract<GroupReply, { type: 'written' }>> {
    return this.ask({ cmd: 'write', startAt: performance.timeOrigin + startAt, endAt: performance.timeOrigin + endAt }, 'written');
  }

  /** Once nothing has arrived for a while: every client's record. */
  async collect(): Promise<RecordedClient[]> {
    const { clients } = await this.ask({ cmd: 'collect' }, 'records');
    return clients.map((record) => new RecordedClient(record));
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    try {
      this.child.send({ cmd: 'close' } satisfies GroupCommand);
    } catch {
      this.child.kill('SIGKILL');
    }
    await gone;
    clearTimeout(timer);
  }

  private async ask<T extends GroupReply['type']>(command: GroupCommand, expected: T): Promise<Extract<GroupReply, { type: T }>> {
    if (this.exited) throw new Error(`the client group's process has exited\n${this.stderr}`);
    this.child.send(command);
    const reply = this.replies.shift() ?? (await new Promise<GroupReply>((resolve) => (this.waiter = resolve)));
    if (reply.type === 'error') throw new Error(`client group: ${reply.message}`);
    if (reply.type !== expected) throw new Error(`client group answered ${reply.type}, expected ${expected}`);
    return reply as Extract<GroupReply, { type: T }>;
  }
}

/**
 * Several instances of one region, one storage (issue #13): clients of one document connected to
 * different instances see each other's edits and cursors live, and converge even when the bus
 * between them loses messages, Redis restarts or an instance is killed.
 *
 *   - Live: a RoomListener with destination 'instances' publishes every change and presence
 *     change originPolicy routes there on the document's channel; other instances apply it with
 *     an InstanceOrigin, which originPolicy never routes back to the bus (no echo loops).
 *   - No gap at load: an instance subscribes to a document's channel before loading it from
 *     storage (RoomListener.beforeLoad) and buffers what arrives until the room exists.
 *   - Storage is the truth: every loaded document is also read from storage from the last
 *     sequence number this instance saw (`DocumentStore.loadSince`): at once after a gap in a
 *     sender's sequence or after the bus comes back, shortly after a load, and on a timer (every
 *     second while the bus is down, every 5 s while it is up, spread out: then a lost message shows as a gap,
 *     and a sender whose publisher dropped sends one more message on every document once it is
 *     back, so a lost last message shows too). A change is published as it is applied and stored
 *     a few milliseconds later, so a read can miss it once; the next read finds it. Yjs updates
 *     are idempotent: applying one twice is free.
 *   - Compaction never outruns that read (compactableThrough): an entry another instance
 *     appended is only replaced by a snapshot of a document known to contain it.
 *   - Access: a rotation or deletion made here is announced on the document's channel; every
 *     instance then reads the access state from storage and closes the connections it revoked
 *     (Relay.accessChanged / documentDeleted). The timer reads it too, should the message be lost.
 *   - Presence: an instance that loads a document (or finds a gap) asks the others for theirs;
 *     an instance that leaves says so, and one not heard from for a while is taken for gone, so
 *     its clients' cursors disappear.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DocumentStore } from '../storage/DocumentStore';
import type { Relay } from '../relay/Relay';
import type { Room } from '../relay/Room';
import type { RoomListener } from '../relay/RoomListener';
import type { ChangeOrigin } from '../relay/origins';
import { InstanceOrigins } from './InstanceOrigins';
import { UnopenedDocumentFeed } from './UnopenedDocumentFeed';
import {
  decodeDocumentMessage,
  decodeInstanceMessage,
  encodeDocumentMessage,
  encodeInstanceMessage,
  type DocumentFrame,
  type DocumentMessage,
} from './busFrames';
import type { RedisBus } from './RedisBus';
import { TrackedDocument } from './TrackedDocument';
import { InstanceMetrics } from './instanceMetrics';
import { InstanceRoster } from './InstanceRoster';
import { StorageReconciler } from './StorageReconciler';
import { ReconcileSchedule } from './ReconcileSchedule';
import { CompactionLeases } from './CompactionLeases';
import { BusChannels } from './BusChannels';

export interface InstanceSyncOptions {
  /** This instance's name on the bus (INSTANCE_ID); unique within the region. */
  instanceId: string;
  /** Prefix of every Redis channel (several regions or tests may share one Redis). */
  channelPrefix?: string;
  /** How often every loaded document is read from storage while the bus is down (and how often that is checked). */
  reconcileIntervalMs?: number;
  /**
   * How often while the bus is up: then a lost message shows as a gap in its sender's sequence
   * (read at once), and a dropped connection as the bus coming back (every document read at once);
   * this read catches anything else. At least reconcileIntervalMs.
   */
  healthyReconcileIntervalMs?: number;
  /** How often this instance says it is alive. */
  aliveIntervalMs?: number;
  /** An instance not heard from for this long is taken for gone (its clients' presence is removed). */
  instanceTimeoutMs?: number;
  /** How long start waits for Redis before serving without it. */
  startTimeoutMs?: number;
}

/** What /healthz shows of the bus. */
export interface BusStatus {
  state: 'connecting' | 'up' | 'down';
  instanceId: string;
  /** The other instances heard from lately. */
  instances: string[];
  /** Messages found missing in other instances' sequences, and reads of storage that recovered what the bus lost (since start). */
  gapsDetected: number;
  recoveries: number;
}

/**
 * Relay.accessChanged's "from" for a change learnt from another instance: not a region name
 * (those have no ':'), so the region replicator does not send it on (the origin instance did).
 */
export const INSTANCE_ACCESS_SOURCE_PREFIX = 'instance:';

/**
 * Every open document is read from storage this often while the bus is up (every second while it
 * is down). Each read costs a query, a decode of every entry appended since and a read of the
 * access state, per document: a tenth or so of a busy instance's CPU at one second.
 */
const DEFAULT_HEALTHY_RECONCILE_MS = 5000;

/** A load that has not finished after this long is given up (its subscription dropped). */
const STALE_LOAD_MS = 60_000;

export class InstanceSync implements RoomListener {
  readonly destination = 'instances' as const;
  private readonly docs = new Map<string, TrackedDocument>();
  private readonly origins = new InstanceOrigins();
  private readonly unopened: UnopenedDocumentFeed;
  private readonly roster: InstanceRoster;
  private readonly channels: BusChannels;
  private readonly metrics: InstanceMetrics;
  private readonly reconciler: StorageReconciler;
  private readonly reconciling: ReconcileSchedule;
  private readonly leases: CompactionLeases;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    private readonly relay: Relay,
    store: DocumentStore,
    private readonly bus: RedisBus,
    private readonly log: Logger,
    registry: Registry,
    private readonly options: InstanceSyncOptions,
  ) {
    this.channels = new BusChannels(options.channelPrefix);
    this.roster = new InstanceRoster(options.instanceTimeoutMs ?? 3 * (options.aliveIntervalMs ?? 2000) + 1000);
    this.reconciler = new StorageReconciler(store, relay, log, `${INSTANCE_ACCESS_SOURCE_PREFIX}${options.instanceId}`);
    this.reconciling = new ReconcileSchedule(this.reconciler, () => this.documentsToReconcile(), options.healthyReconcileIntervalMs ?? DEFAULT_HEALTHY_RECONCILE_MS);
    this.leases = new CompactionLeases(bus.publisher, log, this.channels.compactionLeasePrefix);
    this.unopened = new UnopenedDocumentFeed(bus, options.instanceId, this.channels.documentPrefix, (docId) => this.docs.has(docId));
    this.metrics = new InstanceMetrics(registry, bus, {
      otherInstances: () => this.roster.alive().length,
      recovered: () => this.reconciler.recovered,
      leasesRefused: () => this.leases.refused,
    });
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  /**
   * Joins the bus and starts reading storage on the timer. Resolves once the bus is up, or after
   * startTimeoutMs with Redis still unreachable: the instance then starts degraded and joins the
   * bus in the background.
   */
  async start(): Promise<void> {
    this.relay.addRoomListener(this);
    this.relay.onAccessChanged((docId, _access, from) => {
      if (!from?.startsWith(INSTANCE_ACCESS_SOURCE_PREFIX)) this.publish(docId, { type: 'access' });
    });
    let firstUp = () => {};
    const up = new Promise<void>((resolve) => (firstUp = resolve));
    this.bus.start({
      message: (channel, message) => this.receive(channel, message),
      patternMessage: (channel, message) => this.unopened.receive(channel, message),
      up: (missedMessages) => {
        this.busUp(missedMessages);
        firstUp();
      },
      down: () => this.roster.busDown(),
    });
    void this.bus.subscribe(this.channels.instances);
    const every = (ms: number, run: () => void) => {
      const timer = setInterval(run, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.reconcileIntervalMs ?? 1000, () => {
      for (const instanceId of this.roster.expire()) this.forgetInstance(instanceId, 'silent');
      this.reconciling.tick(this.bus.state === 'up');
    });
    every(this.options.aliveIntervalMs ?? 2000, () => this.announce());
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.options.startTimeoutMs ?? 3000)));
    if ((await Promise.race([up, gaveUp])) === 'timeout') this.log.warn('Redis not reachable at start: serving this instance\'s clients, joining the other instances once it is');
    clearTimeout(timer);
  }

  /** Stops listening and says goodbye (before the relay closes its rooms). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reconciling.stop();
    for (const timer of this.timers) clearInterval(timer);
    for (const tracked of this.docs.values()) if (tracked.followUp) clearTimeout(tracked.followUp);
    this.bus.publish(this.channels.instances, encodeInstanceMessage({ type: 'leaving', sender: this.instanceId }));
  }

  status(): BusStatus {
    return {
      state: this.bus.state,
      instanceId: this.instanceId,
      instances: this.roster.alive(),
      gapsDetected: this.metrics.counts.gaps,
      recoveries: this.reconciler.recovered,
    };
  }

  // --- RoomListener -------------------------------------------------------------------------

  async beforeLoad(docId: string): Promise<void> {
    let tracked = this.docs.get(docId);
    if (!tracked) this.docs.set(docId, (tracked = new TrackedDocument(docId)));
    tracked.loading();
    await this.bus.subscribe(this.channels.document(docId));
  }

  loaded(room: Room): void {
    let tracked = this.docs.get(room.docId);
    if (!tracked) {
      // Loaded without beforeLoad (cannot happen through Relay.getRoom): subscribe late; the
      // read of storage right after covers what the subscription missed.
      this.docs.set(room.docId, (tracked = new TrackedDocument(room.docId)));
      void this.bus.subscribe(this.channels.document(room.docId));
    }
    for (const message of tracked.attach(room)) this.handle(tracked, message);
    this.publish(room.docId, { type: 'presenceQuery' });
    // Changes published before we subscribed but stored after our load are in neither.
    this.reconciling.soon(tracked);
  }

  onChange(room: Room, update: Uint8Array, origin: ChangeOrigin): void {
    this.publish(room.docId, { type: 'update', update, fromPeerRegion: origin.kind === 'peer' });
  }

  onPresence(room: Room, update: Uint8Array, origin: ChangeOrigin): void {
    this.docs.get(room.docId)?.notePresence(update);
    this.publish(room.docId, { type: 'presence', update, fromPeerRegion: origin.kind === 'peer' });
  }

  /**
   * For the instance holding the region links: the other instances' changes to documents this
   * one does not have open, as they are published (UnopenedDocumentFeed). Returns a function that stops it.
   */
  forwardUnopened(onUpdate: (docId: string, update: Uint8Array) => void): () => void {
    return this.unopened.start(onUpdate);
  }

  /**
   * Brings a loaded document up to what storage holds (what the bus may have lost): the region
   * link holder calls it before comparing a document with a peer region, so the comparison
   * covers every change any instance stored and marked for that peer.
   */
  async readStored(docId: string): Promise<void> {
    const tracked = this.docs.get(docId);
    if (tracked?.room) await this.reconciler.entries(tracked);
  }

  compactableThrough(room: Room): number {
    const tracked = this.docs.get(room.docId);
    return tracked?.room === room ? tracked.storedThrough : 0;
  }

  compactionLease(room: Room): Promise<(() => void) | null> {
    return this.leases.acquire(room.docId);
  }

  // --- receiving ----------------------------------------------------------------------------

  private receive(channel: string, bytes: Uint8Array): void {
    if (channel === this.channels.instances) return this.receiveInstanceMessage(bytes);
    const docId = this.channels.documentOf(channel);
    if (docId === null) return;
    let message: DocumentMessage;
    try {
      message = decodeDocumentMessage(bytes);
    } catch (err) {
      this.metrics.counts.malformed++;
      this.log.warn({ err, channel }, 'malformed message on the bus between instances; dropped');
      return;
    }
    if (message.sender === this.instanceId) return; // our own, back from Redis
    this.metrics.received(message.sentAt);
    this.heardFrom(message.sender);
    const tracked = this.docs.get(docId);
    if (!tracked) return;
    if (tracked.room === null) {
      tracked.hold(message);
      return;
    }
    this.handle(tracked, message);
  }

  private handle(tracked: TrackedDocument, message: DocumentMessage): void {
    if (tracked.gapBefore(message)) {
      this.metrics.counts.gaps++;
      this.log.debug({ docId: tracked.docId, sender: message.sender }, 'gap in an instance\'s messages; reading storage');
      this.reconciling.soon(tracked);
      // The lost message may have been presence: ask again.
      this.publish(tracked.docId, { type: 'presenceQuery' });
    }
    const room = tracked.room;
    if (!room || room.isDestroyed) return;
    const origin = this.origins.of(message.sender, message.frame.type === 'update' || message.frame.type === 'presence' ? message.frame.fromPeerRegion : false);
    switch (message.frame.type) {
      case 'update':
        room.applyRemoteUpdate(origin, message.frame.update);
        return;
      case 'presence':
        room.applyRemotePresence(origin, message.frame.update);
        return;
      case 'presenceQuery':
        this.answerPresenceQuery(tracked, room);
        return;
      case 'access':
        void this.reconciler.access(tracked);
        return;
    }
  }

  private answerPresenceQuery(tracked: TrackedDocument, room: Room): void {
    const update = tracked.forwardedPresenceOf(room);
    // Marked as ours even where some came from a peer region: only the link holder forwards
    // those, and presence sent to instances without links goes no further.
    if (update) this.publish(tracked.docId, { type: 'presence', update, fromPeerRegion: false });
  }

  private receiveInstanceMessage(bytes: Uint8Array): void {
    let message;
    try {
      message = decodeInstanceMessage(bytes);
    } catch (err) {
      this.metrics.counts.malformed++;
      this.log.warn({ err }, 'malformed instance message on the bus; dropped');
      return;
    }
    if (message.sender === this.instanceId) return;
    if (message.type === 'alive') this.heardFrom(message.sender);
    else if (this.roster.left(message.sender)) this.forgetInstance(message.sender, 'left');
  }

  private busUp(missedMessages: boolean): void {
    this.roster.busUp();
    this.announce();
    if (!missedMessages) {
      // Only our publisher dropped: the others see the gap in our sequence at our next message
      // and read storage. Send one now on every document, so a lost last message is seen at
      // once too, not at the others' next timer read of storage.
      for (const tracked of this.docs.values()) if (tracked.isLive) this.publish(tracked.docId, { type: 'presenceQuery' });
      return;
    }
    // Whatever was published while our subscription was down is lost, gaps or not: read all of
    // it (in a pass, a few documents at a time), and ask for presence again.
    for (const tracked of this.docs.values()) {
      if (!tracked.isLive) continue;
      tracked.forgetSenders();
      this.publish(tracked.docId, { type: 'presenceQuery' });
    }
    this.reconciling.allNowAndSoon();
  }

  // --- storage: the truth -------------------------------------------------------------------

  /** At the start of every pass: forgets stale documents; the rest are read. */
  private documentsToReconcile(): TrackedDocument[] {
    const live: TrackedDocument[] = [];
    for (const tracked of this.docs.values()) {
      if (tracked.isLive) live.push(tracked);
      else if (tracked.room !== null || Date.now() - tracked.loadingSince > STALE_LOAD_MS) this.untrack(tracked);
    }
    return live;
  }

  // --- instances ----------------------------------------------------------------------------

  private announce(): void {
    if (!this.stopped) this.bus.publish(this.channels.instances, encodeInstanceMessage({ type: 'alive', sender: this.instanceId }));
  }

  private heardFrom(instanceId: string): void {
    // Taken for gone earlier (its cursors removed) but alive after all: ask for presence again.
    if (!this.roster.heard(instanceId)) return;
    for (const tracked of this.docs.values()) if (tracked.isLive) this.publish(tracked.docId, { type: 'presenceQuery' });
  }

  /** Removes a gone instance's presence and waiting updates from every room. */
  private forgetInstance(instanceId: string, why: 'left' | 'silent'): void {
    this.log.info({ instance: instanceId, why }, 'instance gone; removing its clients\' presence');
    const origins = this.origins.bothOf(instanceId);
    for (const tracked of this.docs.values()) {
      tracked.forgetSenders(instanceId);
      if (tracked.isLive) for (const origin of origins) tracked.room!.forgetPeer(origin);
    }
  }

  // --- helpers ------------------------------------------------------------------------------

  private publish(docId: string, frame: DocumentFrame): void {
    const tracked = this.docs.get(docId);
    const { epoch, seq } = tracked?.nextSequence() ?? { epoch: 0, seq: 0 };
    this.bus.publish(this.channels.document(docId), encodeDocumentMessage({ sender: this.instanceId, epoch, seq, sentAt: Date.now(), frame }));
  }

  private untrack(tracked: TrackedDocument): void {
    if (this.docs.get(tracked.docId) !== tracked) return;
    this.docs.delete(tracked.docId);
    if (tracked.followUp) clearTimeout(tracked.followUp);
    this.bus.unsubscribe(this.channels.document(tracked.docId));
  }
}

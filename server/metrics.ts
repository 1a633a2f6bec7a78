/**
 * Prometheus metrics, one registry per server instance (several relays can share a process).
 *
 * Hot-path counts are plain numbers, read by prom-client only when /metrics is scraped, so a
 * relayed message costs an integer increment rather than a label lookup.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { KNOWN_MESSAGE_TYPE_NAMES, messageTypeName, type KnownMessageTypeName } from '../lib/protocol/messageTypes';
import type { PeerStatus } from './replication/peerStatus';
import type { LinkTraffic, TrafficCounts } from './replication/LinkTraffic';

type TypeCounts = Record<KnownMessageTypeName | 'unknown', number>;

/** Built from the one list of names, so a new message type cannot be counted as unknown. */
const zeroCounts = (): TypeCounts =>
  Object.fromEntries([...KNOWN_MESSAGE_TYPE_NAMES, 'unknown'].map((name) => [name, 0])) as TypeCounts;

export interface RelayStats {
  connections: number;
  documentsLoaded: number;
}

/** Where the per-peer region series are read from at scrape time (the Replicator, made after Metrics). */
export interface RegionMetricsSource {
  peers(): Promise<readonly PeerStatus[]>;
  /** By proven region name. */
  traffic(): ReadonlyMap<string, LinkTraffic>;
  /** Whether this instance holds the region links (absent: it is the region's only instance). */
  linksHere?(): boolean;
}

export class Metrics {
  readonly registry = new Registry();

  private readonly messagesIn = zeroCounts();
  private readonly messagesOut = zeroCounts();
  private bytesIn = 0;
  private bytesOut = 0;
  private connectionsOpened = 0;
  private framesRejected = 0;
  /** Document integrity (issue #15): every one of these is logged at error or warn level too. */
  private readonly integrity = { changesFailed: 0, untaggedChanges: 0, updatesWaiting: 0, splitsDetected: 0 };
  private readonly refusals = new Map<number, number>();

  /** Per-result children, bound once: observing through labels hashes them on every call. */
  private readonly saveDuration: Record<'ok' | 'error', Histogram.Internal<'result'>>;
  private readonly loadDuration: Histogram<'result'>;
  private readonly compactions: Counter;
  private regionSource: RegionMetricsSource | null = null;
  /** One read of the peers per scrape, shared by the five gauges that collect it side by side. */
  private peersRead: Promise<readonly PeerStatus[]> | null = null;

  /**
   * @param stats read at scrape time for the gauges
   * @param withProcessMetrics also collect Node's default metrics (event-loop lag, RSS, GC); once
   *   per process, so only the main server turns it on
   */
  constructor(stats: () => RelayStats, withProcessMetrics: boolean) {
    const self = this;
    const r = [this.registry];
    // The event-loop monitor is a timer that wakes the process at this interval, idle or not:
    // at 20 ms it cost an idle relay ~3 ms of CPU a second, at 100 ms under 1 ms (measured).
    if (withProcessMetrics) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });

    new Gauge({ name: 'concord_connections', help: 'Open relay WebSocket connections.', registers: r, collect() { this.set(stats().connections); } });
    new Gauge({ name: 'concord_documents_loaded', help: 'Documents loaded in memory.', registers: r, collect() { this.set(stats().documentsLoaded); } });
    counterFromTotals('concord_messages_received_total', 'Relay messages received, by protocol message type.', r, () => self.messagesIn);
    counterFromTotals('concord_messages_sent_total', 'Relay messages sent, by protocol message type.', r, () => self.messagesOut);
    new Counter({ name: 'concord_bytes_received_total', help: 'Relay payload bytes received.', registers: r, collect() { this.reset(); this.inc(self.bytesIn); } });
    new Counter({ name: 'concord_bytes_sent_total', help: 'Relay payload bytes sent.', registers: r, collect() { this.reset(); this.inc(self.bytesOut); } });
    new Counter({ name: 'concord_frames_rejected_total', help: 'Incoming frames refused as malformed or not allowed.', registers: r, collect() { this.reset(); this.inc(self.framesRejected); } });
    new Counter({ name: 'concord_changes_failed_total', help: 'Changes that threw half-way inside Yjs; none of them was relayed or stored, the document was reloaded.', registers: r, collect() { this.reset(); this.inc(self.integrity.changesFailed); } });
    new Counter({ name: 'concord_untagged_changes_total', help: 'Changes made to a document outside its tagged change path (a bug; stored and relayed as the server\'s own).', registers: r, collect() { this.reset(); this.inc(self.integrity.untaggedChanges); } });
    new Counter({ name: 'concord_updates_waiting_total', help: 'Client updates held back whole until the data they depend on arrives.', registers: r, collect() { this.reset(); this.inc(self.integrity.updatesWaiting); } });
    new Counter({ name: 'concord_splits_detected_total', help: 'Replicas found with equal state vectors but different content (by digest).', registers: r, collect() { this.reset(); this.inc(self.integrity.splitsDetected); } });
    new Counter({ name: 'concord_connections_opened_total', help: 'Relay connections accepted.', registers: r, collect() { this.reset(); this.inc(self.connectionsOpened); } });
    new Counter({
      name: 'concord_connections_refused_total',
      help: 'Connections closed or refused by the relay, by close code.',
      labelNames: ['code'],
      registers: r,
      collect() {
        this.reset();
        for (const [code, n] of self.refusals) this.inc({ code: String(code) }, n);
      },
    });
    const saveDuration = new Histogram({
      name: 'concord_save_duration_seconds',
      help: 'Time to append a batch of updates to storage.',
      labelNames: ['result'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: r,
    });
    this.saveDuration = { ok: saveDuration.labels('ok'), error: saveDuration.labels('error') };
    this.loadDuration = new Histogram({
      name: 'concord_load_duration_seconds',
      help: 'Time to load a document from storage into memory.',
      labelNames: ['result'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    });
    this.compactions = new Counter({ name: 'concord_compactions_total', help: 'Document logs compacted into a snapshot.', registers: r });
  }

  /** Adds the version history series (concord_versions_*), read from the recorder at scrape time. */
  setHistorySource(source: { recorded(): number; failed(): number; pending(): number }): void {
    const r = [this.registry];
    new Counter({ name: 'concord_versions_recorded_total', help: 'Automatic versions this server recorded.', registers: r, collect() { this.reset(); this.inc(source.recorded()); } });
    new Counter({ name: 'concord_version_failures_total', help: 'Attempts to record a version that failed (retried at the next sweep).', registers: r, collect() { this.reset(); this.inc(source.failed()); } });
    new Gauge({ name: 'concord_history_pending_documents', help: 'Documents with edits not yet in a version.', registers: r, collect() { this.set(source.pending()); } });
  }

  /** Adds the per-peer region series (concord_region_*), read from `source`; a single region has none. */
  setRegionSource(source: RegionMetricsSource): void {
    if (this.regionSource) throw new RangeError('Metrics: the region source is set already');
    this.regionSource = source;
    this.registerRegionSeries([this.registry], source);
  }

  private readPeers(source: RegionMetricsSource): Promise<readonly PeerStatus[]> {
    if (!this.peersRead) {
      const read = source.peers();
      this.peersRead = read;
      const forget = () => {
        if (this.peersRead === read) this.peersRead = null;
      };
      read.then(forget, forget);
    }
    return this.peersRead;
  }

  private registerRegionSeries(r: Registry[], source: RegionMetricsSource): void {
    const self = this;
    const peerGauge = (name: string, help: string, value: (peer: PeerStatus, now: number) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['peer'],
        registers: r,
        async collect() {
          const peers = await self.readPeers(source);
          const now = Date.now();
          this.reset();
          for (const peer of peers) {
            const v = value(peer, now);
            if (v !== null) this.set({ peer: peerLabel(peer) }, v);
          }
        },
      });
    peerGauge('concord_region_link_up', 'Whether the link to the peer region is up (1) or down (0).', (p) => (p.state === 'up' ? 1 : 0));
    new Gauge({
      name: 'concord_region_links_held',
      help: 'Whether this instance holds its region\'s links (1) or another instance of the region does (0); always 1 with one instance.',
      registers: r,
      collect() {
        this.set(source.linksHere?.() === false ? 0 : 1);
      },
    });
    peerGauge(
      'concord_region_last_contact_seconds',
      'Seconds since the last frame from the peer region (absent if never heard from). Links send no heartbeat, so a quiet link that is up grows too.',
      (p, now) => (p.lastContact === null ? null : Math.max(0, (now - Date.parse(p.lastContact)) / 1000)),
    );
    peerGauge('concord_region_replication_lag_seconds', 'Age of the oldest change the peer region has not confirmed (0 when none).', (p) => p.lagSeconds);
    peerGauge('concord_region_backlog_documents', 'Documents with changes the peer region has not confirmed.', (p) => p.backlog.documents);
    peerGauge('concord_region_backlog_bytes', 'Stored bytes of the changes the peer region has not confirmed.', (p) => p.backlog.bytes);
    const trafficCounter = (name: string, help: string, read: (traffic: LinkTraffic) => TrafficCounts, field: 'messages' | 'bytes') =>
      new Counter({
        name,
        help,
        labelNames: ['peer', 'type'],
        registers: r,
        collect() {
          this.reset();
          for (const [peer, traffic] of source.traffic()) {
            for (const [type, counts] of Object.entries(read(traffic))) if (counts[field] > 0) this.inc({ peer, type }, counts[field]);
          }
        },
      });
    trafficCounter('concord_region_messages_sent_total', 'Replication messages sent to the peer region, by type.', (t) => t.sent, 'messages');
    trafficCounter('concord_region_messages_received_total', 'Replication messages received from the peer region, by type.', (t) => t.received, 'messages');
    trafficCounter('concord_region_bytes_sent_total', 'Replication frame bytes sent to the peer region, by message type.', (t) => t.sent, 'bytes');
    trafficCounter('concord_region_bytes_received_total', 'Replication frame bytes received from the peer region, by message type.', (t) => t.received, 'bytes');
  }

  messageIn(type: number, bytes: number): void {
    this.messagesIn[messageTypeName(type)]++;
    this.bytesIn += bytes;
  }

  messageOut(type: number, bytes: number, count = 1): void {
    this.messagesOut[messageTypeName(type)] += count;
    this.bytesOut += bytes * count;
  }

  connectionOpened(): void {
    this.connectionsOpened++;
  }

  frameRejected(): void {
    this.framesRejected++;
  }

  changeFailed(): void {
    this.integrity.changesFailed++;
  }

  untaggedChange(): void {
    this.integrity.untaggedChanges++;
  }

  updateWaiting(): void {
    this.integrity.updatesWaiting++;
  }

  splitDetected(): void {
    this.integrity.splitsDetected++;
  }

  /** Integrity counters so far (tests). */
  get integrityCounts(): Readonly<{ changesFailed: number; untaggedChanges: number; updatesWaiting: number; splitsDetected: number }> {
    return this.integrity;
  }

  /** Frames refused so far (tests and /healthz). */
  get rejectedFrames(): number {
    return this.framesRejected;
  }

  connectionRefused(code: number): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
  }

  /** Refusals so far with this close code (tests and /healthz). */
  refusedCount(code: number): number {
    return this.refusals.get(code) ?? 0;
  }

  saved(seconds: number, ok: boolean): void {
    this.saveDuration[ok ? 'ok' : 'error'].observe(seconds);
  }

  loaded(seconds: number, ok: boolean): void {
    this.loadDuration.observe({ result: ok ? 'ok' : 'error' }, seconds);
  }

  compacted(): void {
    this.compactions.inc();
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** A peer by its proven name, or by its PEERS URL until it has proven one. */
function peerLabel(peer: PeerStatus): string {
  return peer.region ?? peer.url ?? 'unknown';
}

function counterFromTotals(name: string, help: string, registers: Registry[], totals: () => TypeCounts): void {
  new Counter({
    name,
    help,
    labelNames: ['type'],
    registers,
    collect() {
      this.reset();
      for (const [type, n] of Object.entries(totals())) if (n > 0) this.inc({ type }, n);
    },
  });
}

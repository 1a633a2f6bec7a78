/**
 * Active-active replication between regions (issue #12). Every region is a leader: it serves its
 * own clients and stores their changes, and this replicator
 *   - keeps one verified link to each peer region (it dials every URL in PEERS and accepts
 *     `/cluster/link`; when two links to one region exist, the one dialed by the smaller name stays),
 *   - sends each change its own clients make to every linked peer as it happens (a RoomListener
 *     with destination 'regions': originPolicy never routes a peer's change on, so nothing echoes),
 *   - and drains the durable backlog: every stored change marks the document dirty for every
 *     known peer in the same transaction; catch-up passes (CatchUp.ts) compare state with the
 *     peer and send only what it lacks. Documents nobody has open are opened for the pass and
 *     let go after it.
 * A peer never linked with before (or seen with another storage id: its data was lost) gets
 * every document marked dirty once, so a region restarted empty is rebuilt by its peers; peers
 * and their storage ids are remembered in storage, so a restart does not compare everything again.
 *
 * A region of several instances (REDIS_URL) has one replicator per instance, and one of them
 * holds the region links (LinkLease): it dials, accepts and drains the shared backlog; the others
 * neither dial nor accept, and their clients' changes reach it over the bus (originPolicy).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { AccessState } from '../../lib/auth/capabilities';
import { CatchUp } from './CatchUp';
import type { DocumentStore } from '../storage/DocumentStore';
import type { Relay } from '../relay/Relay';
import type { Room } from '../relay/Room';
import type { RoomListener } from '../relay/RoomListener';
import type { ChangeOrigin } from '../relay/origins';
import { LinkRefusedError, runHandshake, type LinkRole } from './handshake';
import { wsLinkChannel } from './wsLinkChannel';
import { PeerLink } from './PeerLink';
import { LinkTraffic } from './LinkTraffic';
import { Dialer } from './Dialer';
import { SerialByKey } from './SerialByKey';
import { SoleInstanceLease, type LinkLease } from './RegionLinkLease';
import { KnownPeers } from './KnownPeers';
import { PeerMessages } from './PeerMessages';
import { CLUSTER_LINK_PATH } from './linkFrames';
import { describePeers, type PeerStatus } from './peerStatus';

/** How long a shutting-down region waits for its peers to answer the links' close frames. */
const LINK_CLOSE_GRACE_MS = 2000;

export interface ReplicatorOptions {
  region: string;
  secret: string;
  /** Base URLs of the other regions (`PEERS`). */
  peers: readonly URL[];
  /** The URL browsers use to reach this region (for failover), if any. */
  publicUrl?: string | undefined;
  /** Time between catch-up passes while a link is up. */
  catchUpIntervalMs?: number;
  /** Documents compared with a peer at once in a pass. */
  catchUpConcurrency?: number;
  /** Catch-up waits while a link holds more than this unsent (live changes never wait). */
  maxBufferedBytes?: number;
  /**
   * Live changes are not sent while a link holds more than this unsent (a slow or congested
   * peer): the document stays in that peer's backlog and catch-up sends what it lacks, so memory
   * stays bounded and nothing is lost.
   */
  maxLiveBufferedBytes?: number;
  /** Ping interval on links; a link silent for three of them is dropped (default 5 s). */
  heartbeatMs?: number;
  /** A peer that has not proven its name within this is refused (default 5 s). */
  handshakeTimeoutMs?: number;
  /** Redial delay after a link drops or a dial fails: doubles from this up to 5 s. */
  redialMs?: number;
  /** Which instance of the region holds the links (default: this one, the only one). */
  lease?: LinkLease;
  /**
   * Brings a loaded document up to what the region's storage holds, before it is compared with
   * a peer (several instances: the bus may have lost another instance's change).
   */
  readStored?: (docId: string) => Promise<void>;
  /**
   * Several instances: a feed of the other instances' changes to documents this instance does
   * not have open (InstanceSync.forwardUnopened), sent over the links while this one holds them.
   */
  unopenedChanges?: (onUpdate: (docId: string, update: Uint8Array) => void) => () => void;
  /**
   * Several instances: how often each reads the peer regions known to storage (the holder's
   * first contact with a new region waits until every instance marks changes for it).
   */
  peerRefreshMs?: number;
}



export class Replicator implements RoomListener {
  readonly destination = 'regions' as const;
  private readonly peerLinks = new Map<string, PeerLink>();
  /** Peer regions this storage has linked with (every stored change is marked dirty for each). */
  private readonly known: KnownPeers;
  private readonly publicUrls = new Map<string, string | undefined>();
  /** What crossed the links to each peer region, over all its links (/metrics, last contact). */
  private readonly traffic = new Map<string, LinkTraffic>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 * 1024, perMessageDeflate: false });
  private readonly dialers = new Set<Dialer>();
  private readonly catchUp: CatchUp;
  private readonly messages: PeerMessages;
  /** Each link's messages for one document are handled in arrival order. */
  private readonly inbox = new SerialByKey();
  private timer: NodeJS.Timeout | null = null;
  private readonly lease: LinkLease;
  private storageId: string | undefined;
  private stopped = false;
  /** Sockets still in their handshake: not links yet, so stop() must end them itself. */
  private readonly handshaking = new Set<WebSocket>();
  /** Live changes not sent because their link was congested (catch-up sent them). */
  liveSkipped = 0;

  constructor(
    private readonly relay: Relay,
    private readonly store: DocumentStore,
    private readonly log: Logger,
    private readonly options: ReplicatorOptions,
  ) {
    this.messages = new PeerMessages(relay, store, log, options.readStored);
    this.catchUp = new CatchUp(
      { store, log, hold: (docId) => this.messages.hold(docId), mergeAccess: (link, docId, access) => this.messages.mergeAccess(link, docId, access) },
      { concurrency: options.catchUpConcurrency, maxBufferedBytes: options.maxBufferedBytes },
    );
    this.lease = options.lease ?? new SoleInstanceLease();
    this.known = new KnownPeers(store, log, options.peerRefreshMs);
  }

  /** Whether this instance holds the region links, and which instance does when several share the region. */
  get links(): { here: boolean; holder: string | null } {
    return { here: this.lease.held, holder: this.lease.holder };
  }

  /** Catch-up passes finished, per peer (tests wait on these rather than on time). */
  get passesCompleted(): ReadonlyMap<string, number> {
    return this.catchUp.passesCompleted;
  }

  async start(): Promise<void> {
    this.storageId = await this.store.storageId();
    await this.known.start();
    this.relay.addRoomListener(this);
    this.relay.setDirtyFor(() => this.known.names());
    this.relay.onAccessChanged((docId, _access, fromPeer) => {
      if (fromPeer === undefined) void this.localAccessChanged(docId);
    });
    for (const url of this.options.peers) this.dialers.add(new Dialer(url, this, this.log));
    this.lease.onChange((held) => (held ? this.linksHere() : this.linksElsewhere()));
    await this.lease.start();
    if (this.lease.held) {
      this.stopUnopenedFeed = this.options.unopenedChanges?.((docId, update) => this.sendLive(docId, update)) ?? null;
      for (const dialer of this.dialers) dialer.dial();
    } else for (const dialer of this.dialers) dialer.pause();
    this.timer = setInterval(() => {
      for (const link of this.peerLinks.values()) this.catchUp.run(link);
    }, this.options.catchUpIntervalMs ?? 1000);
    this.timer.unref();
  }

  private stopUnopenedFeed: (() => void) | null = null;

  /** This instance took the region links over: dial every peer. */
  private linksHere(): void {
    this.stopUnopenedFeed ??= this.options.unopenedChanges?.((docId, update) => this.sendLive(docId, update)) ?? null;
    for (const dialer of this.dialers) dialer.resume();
  }

  /** Another instance holds the region links now: let ours go. */
  private linksElsewhere(): void {
    this.stopUnopenedFeed?.();
    this.stopUnopenedFeed = null;
    for (const dialer of this.dialers) dialer.pause();
    for (const link of this.peerLinks.values()) link.close(1001, 'region links moved to another instance');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.known.stop();
    this.stopUnopenedFeed?.();
    for (const dialer of this.dialers) dialer.stop();
    for (const link of this.peerLinks.values()) link.close(1001, 'region shutting down');
    // Else the server waits for their handshake timeout, or for ever if one completes now.
    for (const ws of this.handshaking) ws.terminate();
    await this.catchUp.stop();
    // A peer that does not answer the close frame is not waited for (ws would wait 30 s).
    const wssClosed = new Promise<void>((resolve) => this.wss.close(() => resolve()));
    const grace = setTimeout(() => {
      for (const ws of this.wss.clients) ws.terminate();
    }, LINK_CLOSE_GRACE_MS);
    await wssClosed;
    clearTimeout(grace);
    // Last: another instance takes the links over at once rather than after the lease expires.
    await this.lease.stop();
  }

  /** Takes `/cluster/link` upgrades; returns false for any other path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = new URL(req.url ?? '/', 'http://link.invalid').pathname;
    if (path !== CLUSTER_LINK_PATH) return false;
    if (this.stopped) {
      socket.destroy();
      return true;
    }
    if (!this.lease.held) {
      // Behind a load balancer the peer's next dial may reach the instance that holds the links.
      this.log.debug({ address: req.socket.remoteAddress, holder: this.lease.holder }, 'cluster link refused: another instance of this region holds the region links');
      socket.once('finish', () => socket.destroy());
      socket.end(
        'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nConnection: close\r\n\r\n' +
          'Another instance of this region holds its region links.\n',
      );
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      void this.establish(ws, 'acceptor', `${req.socket.remoteAddress}:${req.socket.remotePort}`);
    });
    return true;
  }

  /**
   * The regions' public URLs, this one first, then the peers in PEERS order (the editor fails
   * over in this order, so operators choose it), then peers that only dialed us.
   */
  regions(): { name: string; url: string | null; self: boolean }[] {
    const out = [{ name: this.options.region, url: this.options.publicUrl ?? null, self: true }];
    const listed = new Set<string>();
    for (const dialer of this.dialers) {
      const name = dialer.region;
      if (name === null || listed.has(name) || !this.publicUrls.has(name)) continue;
      listed.add(name);
      out.push({ name, url: this.publicUrls.get(name) ?? null, self: false });
    }
    for (const [name, url] of this.publicUrls) if (!listed.has(name)) out.push({ name, url: url ?? null, self: false });
    return out;
  }

  /** Links currently up, by region (tests). */
  link(region: string): PeerLink | undefined {
    return this.peerLinks.get(region);
  }

  status(): Promise<PeerStatus[]> {
    return describePeers({
      store: this.store,
      dialed: this.dialers,
      known: this.known.names(),
      link: (region) => this.peerLinks.get(region),
      traffic: (region) => this.traffic.get(region),
      publicUrl: (region) => this.publicUrls.get(region) ?? null,
    });
  }

  // RoomListener: a change of one of our clients (or the server's own) goes to every linked peer.
  onChange(room: Room, update: Uint8Array, _origin: ChangeOrigin): void {
    this.sendLive(room.docId, update);
  }

  /** A change as it happens, to every linked peer (a congested link gets it from catch-up instead). */
  private sendLive(docId: string, update: Uint8Array): void {
    for (const link of this.peerLinks.values()) {
      if (this.congested(link)) this.liveSkipped++;
      else link.send({ type: 'update', docId, update });
    }
  }

  onPresence(room: Room, update: Uint8Array, _origin: ChangeOrigin): void {
    for (const link of this.peerLinks.values()) {
      if (!this.congested(link)) link.send({ type: 'presence', docId: room.docId, update });
    }
  }

  private congested(link: PeerLink): boolean {
    return link.buffered > (this.options.maxLiveBufferedBytes ?? 16 * 1024 * 1024);
  }

  /** @internal Called by a Dialer with a fresh socket. */
  async establish(ws: WebSocket, role: LinkRole, address: string): Promise<PeerLink | null> {
    const channel = wsLinkChannel(ws, this.options.heartbeatMs);
    let peer;
    this.handshaking.add(ws);
    try {
      peer = await runHandshake(
        channel,
        role,
        { region: this.options.region, secret: this.options.secret, publicUrl: this.options.publicUrl, storageId: this.storageId },
        { log: this.log, peerAddress: address, timeoutMs: this.options.handshakeTimeoutMs },
      );
    } catch (err) {
      if (!(err instanceof LinkRefusedError) && !this.stopped) this.log.error({ err, address }, 'cluster link handshake failed');
      return null;
    } finally {
      this.handshaking.delete(ws);
    }
    if (this.stopped) {
      ws.terminate();
      return null;
    }
    const region = peer.peerRegion;
    if (!this.lease.held) {
      // The lease moved while the handshake ran; 1013: try again later (maybe another instance).
      channel.close(1013, 'another instance of this region holds the region links');
      return null;
    }
    const existing = this.peerLinks.get(region);
    const dialerName = role === 'dialer' ? this.options.region : region;
    if (existing && !existing.isClosed) {
      // Two links to one region (both dialed at once): keep the one dialed by the smaller name.
      const existingDialer = existing.dialed ? this.options.region : region;
      if (existingDialer <= dialerName) {
        channel.close(1000, 'duplicate link');
        return existing;
      }
    }
    const link = new PeerLink(peer, role === 'dialer', channel, () => ws.bufferedAmount, {
      onMessage: (l, message) => void this.inbox.run(`${l.region}\u0000${message.docId}`, () => this.messages.receive(l, message)),
      onClosed: (l) => this.linkClosed(l),
    }, this.log, this.trafficWith(region));
    this.peerLinks.set(region, link);
    // Replaced, not lost: closed after the new link took its place (see linkClosed).
    if (existing && !existing.isClosed) existing.close(1000, 'duplicate link');
    this.publicUrls.set(region, peer.peerPublicUrl);
    this.log.info({ peer: region, role, address }, 'cluster link up');
    // First contact ever, or its data was replaced: every document is compared once.
    try {
      await this.known.linked(region, peer.peerStorageId);
    } catch (err) {
      // Storage failed before every document was marked: drop the link, so the redial does it again.
      this.log.error({ err, peer: region }, 'could not mark the documents for a peer region\'s catch-up; dropping the link to try again');
      link.close(1011, 'storage unavailable; retrying');
      return null;
    }
    if (!this.stopped && !link.isClosed) this.catchUp.run(link);
    return link;
  }

  /** Replication traffic with each peer region that ever linked, by its proven name. */
  peerTraffic(): ReadonlyMap<string, LinkTraffic> {
    return this.traffic;
  }

  private trafficWith(region: string): LinkTraffic {
    let traffic = this.traffic.get(region);
    if (!traffic) this.traffic.set(region, (traffic = new LinkTraffic()));
    return traffic;
  }

  private linkClosed(link: PeerLink): void {
    if (this.peerLinks.get(link.region) !== link) {
      // A duplicate that lost to another link to the same region: that region is still linked.
      this.log.debug({ peer: link.region }, 'duplicate cluster link closed');
      return;
    }
    this.peerLinks.delete(link.region);
    this.catchUp.forget(link.region);
    this.log.warn({ peer: link.region }, 'cluster link down');
    for (const dialer of this.dialers) if (dialer.region === link.region) dialer.dialLater();
    // Presence of that region's clients disappears; its waiting updates are re-sent by catch-up.
    for (const docId of this.relay.loadedDocIds()) this.relay.loadedRoom(docId)?.forgetPeer(link.origin);
  }

  private async localAccessChanged(docId: string): Promise<void> {
    // Stored and marked for every peer already, in one transaction (Relay.accessChangeOptions), so
    // a peer that is down gets it in catch-up; read it back whole (documentDeleted reports only
    // the flag) and send it to the linked peers now.
    let access: AccessState | undefined;
    try {
      access = (await this.store.getDocument(docId))?.access;
    } catch (err) {
      this.log.warn({ err, docId }, 'could not read a changed access state to send it live; catch-up sends it');
      return;
    }
    if (!access) return;
    for (const link of this.peerLinks.values()) link.send({ type: 'access', docId, access });
  }
}

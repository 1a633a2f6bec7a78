/**
 * The origins of changes other instances sent: one frozen object per instance and kind of
 * change (its clients' own, or a peer region's it relayed), since rooms compare origins by
 * identity. Two maps, so a bus message costs a lookup and no allocation.
 */
import type { InstanceOrigin } from '../relay/origins';

export class InstanceOrigins {
  private readonly own = new Map<string, InstanceOrigin>();
  private readonly fromPeerRegion = new Map<string, InstanceOrigin>();

  of(instanceId: string, fromPeerRegion: boolean): InstanceOrigin {
    const map = fromPeerRegion ? this.fromPeerRegion : this.own;
    let origin = map.get(instanceId);
    if (!origin) {
      origin = Object.freeze<InstanceOrigin>(fromPeerRegion ? { kind: 'instance', instanceId, fromPeerRegion: true } : { kind: 'instance', instanceId });
      map.set(instanceId, origin);
    }
    return origin;
  }

  /** Both origins of `instanceId` (to forget its presence). */
  bothOf(instanceId: string): InstanceOrigin[] {
    return [this.of(instanceId, false), this.of(instanceId, true)];
  }
}

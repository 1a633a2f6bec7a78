/**
 * The other instances of the region, by when each was last heard from (any message, or its
 * "alive" every couple of seconds). One silent for longer than the timeout while our own bus was
 * up is taken for gone — SIGKILLed, or cut off — so its clients' cursors can be removed; if it
 * speaks again it is back. Silence while our bus is down says nothing about the others.
 */
export class InstanceRoster {
  private readonly lastHeard = new Map<string, number>();
  /** Taken for gone because they fell silent (not because they said they were leaving). */
  private readonly silent = new Set<string>();
  private upSince: number | null = null;

  constructor(private readonly timeoutMs: number) {}

  /** Heard from `instanceId`; true when it had been taken for gone and is back. */
  heard(instanceId: string, now = Date.now()): boolean {
    this.lastHeard.set(instanceId, now);
    return this.silent.delete(instanceId);
  }

  /** `instanceId` said it is leaving; true if it was known. */
  left(instanceId: string): boolean {
    return this.lastHeard.delete(instanceId);
  }

  busUp(now = Date.now()): void {
    this.upSince = now;
  }

  busDown(): void {
    this.upSince = null;
  }

  /** The instances silent for longer than the timeout while the bus was up (now forgotten). */
  expire(now = Date.now()): string[] {
    if (this.upSince === null || now - this.upSince < this.timeoutMs) return [];
    const gone = Array.from(this.lastHeard).filter(([, heard]) => now - heard > this.timeoutMs).map(([instanceId]) => instanceId);
    for (const instanceId of gone) {
      this.lastHeard.delete(instanceId);
      this.silent.add(instanceId);
    }
    return gone;
  }

  alive(): string[] {
    return Array.from(this.lastHeard.keys()).sort();
  }
}

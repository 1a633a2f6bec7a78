/**
 * A set checker for the region fault tests, modelled on Jepsen's: each write adds a unique token
 * to a document. A write is acknowledged when the region it was sent to says it is stored.
 * Afterwards every replica (a region's storage, its live clients, a fresh client) must hold every
 * acknowledged token of each document, exactly once, and nothing that was never written. A write
 * that was not acknowledged may be present or lost: its region may have died first. The
 * replicas of a document must also agree with each other on state vector, digest and content.
 */

export interface WriteRecord {
  readonly token: string;
  readonly docId: string;
  /** The region the write was sent to. */
  readonly region: string;
  readonly sentAt: number;
  /** When that region said it was stored; null if it never did. */
  ackedAt: number | null;
  /** When each region's clients first saw it (region name → ms). */
  readonly seenAt: Map<string, number>;
}

/** Every write of a run, as the clients saw it. */
export class WriteHistory {
  private readonly writes = new Map<string, WriteRecord>();

  sent(token: string, docId: string, region: string, at = Date.now()): void {
    if (this.writes.has(token)) throw new RangeError(`token ${token} was written twice: tokens must be unique`);
    this.writes.set(token, { token, docId, region, sentAt: at, ackedAt: null, seenAt: new Map() });
  }

  acked(token: string, at = Date.now()): void {
    const write = this.writes.get(token);
    if (write && write.ackedAt === null) write.ackedAt = at;
  }

  /** A client of `region` saw `token`; only the first sighting per region counts. */
  seen(token: string, region: string, at = Date.now()): void {
    const write = this.writes.get(token);
    if (write && !write.seenAt.has(region)) write.seenAt.set(region, at);
  }

  get(token: string): WriteRecord | undefined {
    return this.writes.get(token);
  }

  all(): WriteRecord[] {
    return Array.from(this.writes.values());
  }

  acknowledged(): WriteRecord[] {
    return this.all().filter((write) => write.ackedAt !== null);
  }
}

/** What one replica holds of one document. */
export interface ReplicaContents {
  /** e.g. "r1 storage", "r2 client". */
  replica: string;
  docId: string;
  tokens: readonly string[];
}

export interface ReplicaProblem {
  replica: string;
  docId: string;
  tokens: string[];
}

export interface SetCheckResult {
  /** Acknowledged writes a replica does not hold. */
  lost: ReplicaProblem[];
  /** Tokens a replica holds that were never written to that document. */
  unexpected: ReplicaProblem[];
  /** Tokens a replica holds more than once. */
  duplicated: ReplicaProblem[];
  counts: { attempted: number; acknowledged: number; unacknowledgedPresent: number; unacknowledgedLost: number };
  ok: boolean;
  /** A readable account of every problem, empty when ok. */
  message: string;
}

export function checkSet(history: WriteHistory, replicas: readonly ReplicaContents[]): SetCheckResult {
  const lost: ReplicaProblem[] = [];
  const unexpected: ReplicaProblem[] = [];
  const duplicated: ReplicaProblem[] = [];
  const writes = history.all();
  const everywhere = new Map<string, number>();
  for (const replica of replicas) {
    const held = new Map<string, number>();
    for (const token of replica.tokens) held.set(token, (held.get(token) ?? 0) + 1);
    const missing = writes.filter((w) => w.docId === replica.docId && w.ackedAt !== null && !held.has(w.token)).map((w) => w.token);
    const foreign = Array.from(held.keys()).filter((token) => history.get(token)?.docId !== replica.docId);
    const twice = Array.from(held).filter(([, n]) => n > 1).map(([token, n]) => `${token}×${n}`);
    if (missing.length > 0) lost.push({ replica: replica.replica, docId: replica.docId, tokens: missing });
    if (foreign.length > 0) unexpected.push({ replica: replica.replica, docId: replica.docId, tokens: foreign });
    if (twice.length > 0) duplicated.push({ replica: replica.replica, docId: replica.docId, tokens: twice });
    for (const token of held.keys()) everywhere.set(token, (everywhere.get(token) ?? 0) + 1);
  }
  const unacknowledged = writes.filter((w) => w.ackedAt === null);
  const unacknowledgedPresent = unacknowledged.filter((w) => everywhere.has(w.token)).length;
  const ok = lost.length === 0 && unexpected.length === 0 && duplicated.length === 0;
  const message = ok
    ? ''
    : [describe('lost acknowledged writes', lost, history), describe('unexpected tokens', unexpected), describe('duplicated tokens', duplicated)]
        .filter((part) => part !== '')
        .join('\n');
  return {
    lost,
    unexpected,
    duplicated,
    counts: {
      attempted: writes.length,
      acknowledged: writes.length - unacknowledged.length,
      unacknowledgedPresent,
      unacknowledgedLost: unacknowledged.length - unacknowledgedPresent,
    },
    ok,
    message,
  };
}

/** Each replica's view of one document, to compare across replicas. */
export interface ReplicaState {
  replica: string;
  docId: string;
  /** Hex of the encoded state vector, the digest and the content (any canonical text). */
  stateVector: string;
  digest: string;
  content: string;
}

/** Documents whose replicas disagree, as readable lines; empty when all agree. */
export function disagreements(states: readonly ReplicaState[]): string[] {
  const byDoc = new Map<string, ReplicaState[]>();
  for (const state of states) byDoc.set(state.docId, [...(byDoc.get(state.docId) ?? []), state]);
  const out: string[] = [];
  for (const [docId, replicas] of byDoc) {
    for (const field of ['stateVector', 'digest', 'content'] as const) {
      const groups = new Map<string, string[]>();
      for (const r of replicas) groups.set(r[field], [...(groups.get(r[field]) ?? []), r.replica]);
      if (groups.size > 1) {
        const shown = Array.from(groups, ([value, names]) => `${names.join(', ')}: ${abbreviate(value)}`);
        out.push(`document ${docId}: replicas differ in ${field} — ${shown.join(' | ')}`);
      }
    }
  }
  return out;
}

/** The p-th percentile (0–100) of `values` by nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * How long each write took from sending to being seen by clients of every one of `regions` (the
 * last region to see it), for the writes every region saw (and `include` keeps).
 */
export function visibilityDelays(history: WriteHistory, regions: readonly string[], include: (write: WriteRecord) => boolean = () => true): number[] {
  const out: number[] = [];
  for (const write of history.all()) {
    if (!include(write)) continue;
    const seen = regions.map((region) => write.seenAt.get(region));
    if (seen.every((at): at is number => at !== undefined)) out.push(Math.max(...seen) - write.sentAt);
  }
  return out;
}

const SHOWN_TOKENS = 8;

/** One line per document and set of tokens, naming every replica with that same problem. */
function describe(title: string, problems: readonly ReplicaProblem[], history?: WriteHistory): string {
  if (problems.length === 0) return '';
  const grouped = new Map<string, { docId: string; tokens: string[]; replicas: string[] }>();
  for (const { replica, docId, tokens } of problems) {
    const key = `${docId}\0${tokens.join(',')}`;
    const group = grouped.get(key) ?? { docId, tokens, replicas: [] };
    group.replicas.push(replica);
    grouped.set(key, group);
  }
  const lines = Array.from(grouped.values(), ({ docId, tokens, replicas }) => {
    const shown = tokens.slice(0, SHOWN_TOKENS).map((token) => {
      const write = history?.get(token);
      return write?.ackedAt != null ? `${token} (sent to ${write.region}, acked ${write.ackedAt - write.sentAt} ms later)` : token;
    });
    const more = tokens.length > SHOWN_TOKENS ? `, … ${tokens.length - SHOWN_TOKENS} more` : '';
    return `  document ${docId}, ${tokens.length} in ${replicas.join(', ')}: ${shown.join(', ')}${more}`;
  });
  return `${title}:\n${lines.join('\n')}`;
}

function abbreviate(value: string): string {
  return value.length > 48 ? `${value.slice(0, 48)}…(${value.length} chars)` : value;
}

/**
 * A writer process for the storage contract's several-writers case (issue #13): opens its own
 * store on shared data, prints "ready", waits for "go" on stdin (so several writers really run at
 * the same time), rotates one document's edit link `count` times through updateAccess, marking
 * it dirty for peer "peer" each time, then prints "done" and exits.
 *
 *   node --import tsx tests/support/accessWriter.ts sqlite <dataDir> <docId> <count>
 *   node --import tsx tests/support/accessWriter.ts postgres <DATABASE_URL> <docId> <count>
 */
import readline from 'node:readline';
import type { DocumentStore } from '../../server/storage/DocumentStore';
import { PostgresStore } from '../../server/storage/PostgresStore';
import { SqliteStore } from '../../server/storage/SqliteStore';

/** The change every writer makes: one more edit rotation, with a verifier naming the epoch. */
export function rotateEditForTest<T extends { editEpoch: number; editVerifier: string | null }>(current: T): T {
  return { ...current, editEpoch: current.editEpoch + 1, editVerifier: `v-edit-${current.editEpoch + 1}` };
}

function openStore(kind: string | undefined, location: string | undefined): DocumentStore {
  if (kind === 'sqlite' && location) return new SqliteStore(location);
  if (kind === 'postgres' && location) return new PostgresStore(location, { maxConnections: 2 });
  throw new RangeError(`usage: accessWriter.ts sqlite <dataDir> | postgres <DATABASE_URL>, then <docId> <count> (got ${kind} ${location})`);
}

async function main(): Promise<void> {
  const [kind, location, docId, countArg] = process.argv.slice(2);
  const count = Number(countArg);
  if (!docId || !Number.isSafeInteger(count) || count < 1) throw new RangeError('docId and a positive count are required');
  const store = openStore(kind, location);
  const lines = readline.createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.on('line', (line) => line === 'go' && resolve()));
  process.stdout.write('ready\n');
  await go;
  lines.close();
  for (let i = 0; i < count; i++) await store.updateAccess(docId, rotateEditForTest, { dirtyFor: ['peer'] });
  await store.close();
  process.stdout.write('done\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main().catch((err: unknown) => {
    process.stderr.write(`accessWriter failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

/**
 * Child processes (relays, redis-servers, peer servers) must never outlive the test or bench
 * process that started them, even when it exits on an uncaught error: every one registered here
 * is SIGKILLed when this process exits. (An orphaned bench relay was once found still running an
 * hour after its run.)
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Kills `child` when this process exits, unless it has exited by then. */
export function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/**
 * How a Concord server process is started: `node <SERVER_NODE_FLAGS> server/start.mjs [entry]`.
 * `npm start` and `npm run relay` (package.json) pass the same flags, and so do the tests, the
 * benchmarks and `npm run regions`; tests/unit/serverCommand.test.ts keeps package.json in step.
 */
import path from 'node:path';

/**
 * V8's semi-spaces (where new objects live) at most 4 MiB each instead of 16: under load V8
 * grows them to the maximum, and a relay allocates a little for every frame. Measured with the
 * instances bench (3 instances, 19,000 deliveries/s): peak RSS 113–123 MiB per process against
 * 130–136 MiB, for about 2 % more CPU per delivery (more, shorter scavenges).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** The arguments after `node` that start `entry` (the web app, relay and API by default) from `root`. */
export function serverArgs(root: string, entry?: 'main' | 'relayMain'): string[] {
  return [...SERVER_NODE_FLAGS, path.join(root, 'server', 'start.mjs'), ...(entry ? [entry] : [])];
}

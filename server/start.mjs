// @ts-check
/**
 * `npm start`: the production server, run as plain JavaScript from dist/server/ (built first when
 * missing or older than a source), in this process, so that this pid is the server's own.
 *   node server/start.mjs              web app, relay and API (server/main.ts)
 *   node server/start.mjs relayMain    relay and API only (server/relayMain.ts)
 */
import { pathToFileURL } from 'node:url';
import { SERVER_ENTRIES, ensureServerBuilt, exitIfBuildFails, serverEntryFile } from './build.mjs';

const name = process.argv[2] ?? 'main';
if (!SERVER_ENTRIES.includes(name)) {
  process.stderr.write(`usage: node server/start.mjs [${SERVER_ENTRIES.join(' | ')}]\n`);
  process.exit(2);
}
await exitIfBuildFails(ensureServerBuilt);
// Errors logged with a stack name the TypeScript file and line, not the bundle's.
process.setSourceMapsEnabled(true);
await import(pathToFileURL(serverEntryFile(name)).href);

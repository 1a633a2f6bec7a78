import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS, serverArgs } from '../../server/serverCommand';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('how a server process is started', () => {
  // The tests and benchmarks measure what `npm start` runs only while the two agree.
  it('npm start and npm run relay pass the flags every other start passes', () => {
    expect(scripts.start).toBe(['node', ...SERVER_NODE_FLAGS, 'server/start.mjs'].join(' '));
    expect(scripts.relay).toBe(['node', ...SERVER_NODE_FLAGS, 'server/start.mjs', 'relayMain'].join(' '));
  });

  it('puts the flags before the script and the entry after it', () => {
    expect(serverArgs('/srv/concord', 'relayMain')).toEqual([...SERVER_NODE_FLAGS, path.join('/srv/concord', 'server', 'start.mjs'), 'relayMain']);
    expect(serverArgs('/srv/concord')).toEqual([...SERVER_NODE_FLAGS, path.join('/srv/concord', 'server', 'start.mjs')]);
  });
});

/**
 * Production runs the esbuild bundle in dist/server/ (server/build.mjs), not tsx. These check the
 * bundle as `npm start` builds it: the relay-only entry must not load Next (a one-file bundle would
 * hoist nextApp's `import next`), keepNames must stay off (its wrappers cost memory in hot code),
 * and a source changed after a build must be rebuilt before the next start.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRelayProcess, type RelayProcess } from '../support/relayProcess';
import { TempDirs } from '../support/tempDirs';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD_DIR = path.join(REPO_ROOT, 'dist', 'server');

interface Imports {
  /** Specifiers of `import … from "x"`, `import "x"` and `export … from "x"` at the top of a file. */
  static: string[];
  /** Specifiers of `import("x")`. */
  dynamic: string[];
}

function importsOf(file: string): Imports {
  const code = fs.readFileSync(file, 'utf8');
  const matches = (re: RegExp) => [...code.matchAll(re)].map((m) => m[1]!);
  return {
    static: matches(/^(?:import|export)\b[^;]*?["']([^"']+)["'];?$/gm),
    dynamic: matches(/\bimport\(["']([^"']+)["']\)/g),
  };
}

interface Reach {
  /** The bundle's files the entry loads, at start or lazily (not other builds' leftovers). */
  files: Set<string>;
  /** Packages loaded at start. */
  atStart: Set<string>;
  /** Packages loaded only through an `import()`. */
  lazily: Set<string>;
}

function reachedFrom(entry: string): Reach {
  const reach: Reach = { files: new Set(), atStart: new Set(), lazily: new Set() };
  const loadedAtStart = new Set<string>();
  const visit = (file: string, lazy: boolean) => {
    // A file seen lazily first may still be loaded at start through another path: walk it again.
    if (loadedAtStart.has(file) || (lazy && reach.files.has(file))) return;
    reach.files.add(file);
    if (!lazy) loadedAtStart.add(file);
    const { static: statics, dynamic } = importsOf(file);
    for (const [specifiers, viaDynamic] of [[statics, false], [dynamic, true]] as const) {
      for (const specifier of specifiers) {
        const isLazy = lazy || viaDynamic;
        if (specifier.startsWith('.')) visit(path.resolve(path.dirname(file), specifier), isLazy);
        else (isLazy ? reach.lazily : reach.atStart).add(specifier);
      }
    }
  };
  visit(path.join(BUILD_DIR, entry), false);
  for (const name of reach.atStart) reach.lazily.delete(name);
  return reach;
}

describe('the compiled server', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'server', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'pipe' });
  });

  it('loads Next only through the lazy import startServer makes for the web app', () => {
    // The relay-only server never takes that path (next: false), so it never loads Next; the full
    // server takes it after main has set NODE_ENV, which Next reads when it loads.
    for (const entry of ['relayMain.js', 'main.js']) {
      const { atStart, lazily } = reachedFrom(entry);
      expect(atStart, entry).toContain('ws');
      expect(atStart, entry).not.toContain('next');
      expect(lazily, entry).toContain('next');
    }
  });

  it('is built without keepNames', () => {
    const files = [...new Set(['relayMain.js', 'main.js'].flatMap((entry) => [...reachedFrom(entry).files]))];
    expect(files.length).toBeGreaterThan(2);
    // keepNames defines a `__name` helper and wraps named functions and classes in it.
    const wrapped = files.filter((file) => fs.readFileSync(file, 'utf8').includes('__name('));
    expect(wrapped).toEqual([]);
  });

  describe('when a source changed after the last build', () => {
    const dirs = new TempDirs();
    let relay: RelayProcess | null = null;
    afterEach(async () => {
      await relay?.stop('SIGKILL');
      dirs.removeAll();
    });

    it('rebuilds before it starts', async () => {
      // Only the mtime changes: the content, and so what git and everyone else sees, stays the same.
      const source = path.join(REPO_ROOT, 'server', 'paths.ts');
      const now = new Date();
      fs.utimesSync(source, now, now);
      const changedAt = fs.statSync(source).mtimeMs;

      relay = await startRelayProcess(dirs.make('concord-build-'));

      expect(fs.statSync(path.join(BUILD_DIR, 'relayMain.js')).mtimeMs).toBeGreaterThanOrEqual(changedAt);
      expect(relay.logs.some((entry) => entry.msg === 'listening')).toBe(true);
    });
  });
});

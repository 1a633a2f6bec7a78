// @ts-check
/**
 * The production server is plain JavaScript: esbuild bundles server/main.ts and server/relayMain.ts
 * (with lib/) into dist/server/, node_modules left external. Plain JS because `npm start` must run
 * before anything is compiled, and tsx in production costs a loader thread with its own heap.
 *   node server/build.mjs    build now (npm start builds by itself when the bundle is stale)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const SERVER_BUILD_DIR = path.join(PROJECT_ROOT, 'dist', 'server');
/** The entry points, by the name `node server/start.mjs <name>` takes. */
export const SERVER_ENTRIES = ['main', 'relayMain'];
/** What the bundle is made of: a change to any of these makes it stale. */
const SOURCES = ['server', 'lib', 'package.json', 'tsconfig.json'];
/**
 * A server started from an earlier build may import one of its chunks minutes later (the web
 * app chunk loads after `next build`), so a rebuild leaves other builds' files this long.
 */
const OLD_FILES_KEPT_MS = 60 * 60 * 1000;

/** The compiled entry point `name` (one of SERVER_ENTRIES). @param {string} name */
export function serverEntryFile(name) {
  return path.join(SERVER_BUILD_DIR, `${name}.js`);
}

/** A build that esbuild refused; its errors are already printed (to stderr). */
export class ServerBuildError extends Error {
  name = 'ServerBuildError';
}

/** Builds dist/server/ unless it is newer than every source. Returns whether it built. */
export async function ensureServerBuilt() {
  if (!isStale()) return false;
  process.stderr.write('concord: building the server into dist/server…\n');
  await buildServer();
  return true;
}

function isStale() {
  const builtAt = Math.min(...SERVER_ENTRIES.map((name) => mtimeOrZero(serverEntryFile(name))));
  return builtAt === 0 || SOURCES.some((entry) => newerThan(path.join(PROJECT_ROOT, entry), builtAt));
}

/**
 * Several processes may build at once (parallel test workers, or engineers sharing a checkout)
 * while others start from the bundle, so no reader may see a half-written build: every file is
 * written beside its place and renamed over it, chunks (named by content hash) before the entry
 * points that import them. The entry points' mtime is set to when the build read its sources, so
 * an edit made during the build still makes it stale.
 */
export async function buildServer() {
  const startedAt = new Date();
  // Loaded only to build: a server started from a fresh bundle never holds esbuild's code.
  const esbuild = await import('esbuild');
  try {
    const result = await esbuild.build({
      absWorkingDir: PROJECT_ROOT,
      entryPoints: SERVER_ENTRIES.map((name) => `server/${name}.ts`),
      outdir: SERVER_BUILD_DIR,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      // Shared code goes to chunks, and `await import('./nextApp')` stays a lazy import: in one
      // file per entry its `import next from 'next'` would be hoisted and load Next in relayMain.
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      // Stack traces name our .ts files and lines; the sources themselves are in the repository.
      sourcemap: true,
      sourcesContent: false,
      // keepNames stays off: it wraps every named function in a defineProperty call (see Room.ts).
      logLevel: 'warning',
      write: false,
    }).catch((err) => {
      if (Array.isArray(err.errors)) throw new ServerBuildError(`the server build failed with ${err.errors.length} error(s), shown above`);
      throw err;
    });
    const entryFiles = new Set(SERVER_ENTRIES.map(serverEntryFile));
    const isEntry = (/** @type {string} */ file) => entryFiles.has(file) || entryFiles.has(file.replace(/\.map$/, ''));
    const ordered = [...result.outputFiles.filter((f) => !isEntry(f.path)), ...result.outputFiles.filter((f) => isEntry(f.path))];
    for (const file of ordered) writeAtomically(file.path, file.contents, entryFiles.has(file.path) ? startedAt : null);
    removeOldFiles(new Set(ordered.map((f) => f.path)));
  } finally {
    await esbuild.stop();
  }
}

/** @param {string} file @param {Uint8Array} contents @param {Date | null} mtime */
function writeAtomically(file, contents, mtime) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(temporary, contents);
  if (mtime) fs.utimesSync(temporary, mtime, mtime);
  fs.renameSync(temporary, file);
}

/**
 * Files of earlier builds (and temporary files of crashed ones) once nobody can still need them.
 * @param {Set<string>} current this build's files
 */
function removeOldFiles(current) {
  const cutoff = Date.now() - OLD_FILES_KEPT_MS;
  for (const dir of [SERVER_BUILD_DIR, path.join(SERVER_BUILD_DIR, 'chunks')]) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (!entry.isFile() || current.has(file)) continue;
      // Another build may be removing the same file right now.
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (stat && stat.mtimeMs < cutoff) fs.rmSync(file, { force: true });
    }
  }
}

/** @param {string} file */
function mtimeOrZero(file) {
  return fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

/**
 * Whether `entry`, or anything under it, was modified after `time`. Stops at the first such file.
 * @param {string} entry @param {number} time @returns {boolean}
 */
function newerThan(entry, time) {
  const stat = fs.statSync(entry, { throwIfNoEntry: false });
  if (!stat) return false;
  if (stat.mtimeMs > time) return true;
  if (!stat.isDirectory()) return false;
  return fs.readdirSync(entry).some((child) => newerThan(path.join(entry, child), time));
}

/**
 * Runs `build`; a refused build ends the process with status 1 and one line, not a stack.
 * @template T @param {() => Promise<T>} build @returns {Promise<T>}
 */
export async function exitIfBuildFails(build) {
  try {
    return await build();
  } catch (err) {
    if (!(err instanceof ServerBuildError)) throw err;
    process.stderr.write(`concord: ${err.message}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await exitIfBuildFails(buildServer);
  process.stderr.write(`concord: server built into ${path.relative(PROJECT_ROOT, SERVER_BUILD_DIR)}/\n`);
}

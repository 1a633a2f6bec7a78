/**
 * Peer programs we write in TypeScript run as plain JavaScript, so their memory is not inflated by
 * a TypeScript loader (tsx adds about 28 MiB of RSS to a small server). Each is one file that imports
 * only packages; it is transpiled (types stripped) beside node_modules so those imports resolve.
 * Concord runs compiled too: `npm start` runs the esbuild bundle (server/build.mjs).
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from './childServer';

const OUT_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'concord-bench');

/** The .mjs for peer program `file` (a path under tests/bench/peers/), written if missing or stale. */
export function plainNodeProgram(file: string): string {
  const source = path.join(REPO_ROOT, 'tests', 'bench', 'peers', file);
  const out = path.join(OUT_DIR, file.replace(/\.ts$/, '.mjs'));
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(source).mtimeMs) return out;
  const { outputText } = ts.transpileModule(fs.readFileSync(source, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: source,
  });
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(out, outputText);
  return out;
}

/**
 * `npm start` on a fresh checkout must just work: build the web app when there is no build, or
 * when a source file is newer than the build.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { PROJECT_ROOT } from './paths';

const WEB_SOURCES = ['app', 'lib', 'public', 'next.config.js', 'package.json', 'tsconfig.json'];

export function ensureWebAppBuilt(log: Logger): void {
  const buildId = path.join(PROJECT_ROOT, '.next', 'BUILD_ID');
  const builtAt = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
  const newest = Math.max(...WEB_SOURCES.map((entry) => newestMtime(path.join(PROJECT_ROOT, entry))));
  if (builtAt > 0 && builtAt >= newest) return;
  log.info(builtAt === 0 ? 'building the web app (first start only, about a minute)…' : 'sources changed since the last build; rebuilding the web app…');
  const nextBin = path.join(PROJECT_ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
  const result = spawnSync(process.execPath, [nextBin, 'build'], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (result.status !== 0) {
    log.fatal({ status: result.status, signal: result.signal }, 'the web app build failed; see the output above');
    process.exit(1);
  }
  log.info('web app built');
}

function newestMtime(entry: string): number {
  if (!fs.existsSync(entry)) return 0;
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of fs.readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

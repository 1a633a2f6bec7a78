/** Where an installed peer package lives and which version it is (not every package exports its package.json). */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './childServer';

export function packageDir(name: string): string {
  return path.join(REPO_ROOT, 'node_modules', ...name.split('/'));
}

export function packageVersion(name: string): string {
  return (JSON.parse(fs.readFileSync(path.join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version;
}

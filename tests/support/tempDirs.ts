/** Scratch data directories for tests and benchmarks, removed together when the caller is done. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class TempDirs {
  private readonly dirs: string[] = [];

  /** A new, empty, uniquely named directory under the OS temp dir. */
  make(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** Removes every directory made so far. Stop the servers using them first. */
  removeAll(): void {
    for (const dir of this.dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  }
}

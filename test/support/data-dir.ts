import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POINTER_FILE } from '../../src/read-store/embedded/cluster-location';

/** Removes a spec's directory and the embedded cluster its DATA_DIR points to elsewhere (as root: /var/lib/copydesk/clusters/…), if any. */
export function removeDataDir(root: string, dataDir: string): void {
  try {
    rmSync(readFileSync(join(dataDir, POINTER_FILE), 'utf8').trim(), { recursive: true, force: true });
  } catch {
    // the cluster was in DATA_DIR
  }
  rmSync(root, { recursive: true, force: true });
}

/** Temporary directories a spec makes as it goes (one per server it starts, say); `removeAll` in its afterAll removes them. */
export function tempDirs(prefix: string): { make(): string; removeAll(): void } {
  const made: string[] = [];
  return {
    make: () => {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    removeAll: () => {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

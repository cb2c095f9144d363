import { readFileSync, rmSync } from 'node:fs';
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

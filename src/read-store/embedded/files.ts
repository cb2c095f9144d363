import { randomBytes } from 'node:crypto';
import { linkSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Creates `file` (mode 0600) with `content` unless it exists; false when another process's file was
 * there first. Written whole beside it, then linked into place, which fails if the file exists: another
 * process starting at the same moment never reads a file that is there but not written yet.
 */
export function createWhole(file: string, content: string): boolean {
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    writeFileSync(draft, content, { mode: 0o600, flag: 'wx' });
    linkSync(draft, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    // A file system without hard links: created and written in one call instead, so that a reader may find it
    // empty for a moment (passwords.ts waits for that).
    return createOnce(file, content);
  } finally {
    rmSync(draft, { force: true });
  }
}

function createOnce(file: string, content: string): boolean {
  try {
    writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  }
}

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { passwordIn } from '../../src/read-store/embedded/passwords';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MODULE = join(__dirname, '..', '..', 'src', 'read-store', 'embedded', 'passwords.ts');

/**
 * Each child waits for the same moment, then asks for the password in `file` and prints it: processes
 * starting together on one DATA_DIR (a server and CLI commands) must all come away with the one password.
 */
function childAsking(file: string, at: number): Promise<string> {
  const script = `
    const { passwordIn } = require(${JSON.stringify(MODULE)});
    const wait = ${at} - Date.now();
    setTimeout(async () => process.stdout.write(JSON.stringify(await passwordIn(${JSON.stringify(file)}))), Math.max(0, wait));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

describe('the passwords kept in DATA_DIR', () => {
  it('processes creating the file at the same moment all read the one password, never an empty or half-written file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copydesk-passwords-'));
    try {
      for (let round = 0; round < 3; round++) {
        const file = join(dir, `password-${round}`);
        const at = Date.now() + 3000;
        const passwords = await Promise.all(Array.from({ length: 8 }, () => childAsking(file, at)));
        expect(passwords[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(new Set(passwords)).toEqual(new Set([passwords[0]]));
        expect(readFileSync(file, 'utf8')).toBe(`${passwords[0]}\n`);
      }
      // Nothing left beside them: each draft is gone, linked into place or not.
      expect(readdirSync(dir).sort()).toEqual(['password-0', 'password-1', 'password-2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('an empty file (left by an older copydesk stopped mid-write) is refused with what to do, not taken as a password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copydesk-passwords-'));
    try {
      const file = join(dir, 'password');
      writeFileSync(file, '\n', { mode: 0o600 });
      await expect(passwordIn(file)).rejects.toThrow(`${file} is empty: restore it as it was, or delete it if PostgreSQL was never started with it`);
      rmSync(file);
      expect(await passwordIn(file)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file another process has created but not yet written is waited for, not refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copydesk-passwords-'));
    try {
      const file = join(dir, 'password');
      writeFileSync(file, '', { mode: 0o600 });
      // The other process writes it a moment later, as one creating and writing it in two steps would.
      const writer = spawn('sh', ['-c', `sleep 0.3; printf 'written-by-the-other-process\\n' > '${file}'`], { stdio: 'ignore' });
      try {
        expect(await passwordIn(file)).toBe('written-by-the-other-process');
      } finally {
        writer.kill();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

#!/usr/bin/env node
// Compiles the TypeScript into dist/ only when a source is newer than the last build, so that
// `npm start` and `npm run copydesk` start at once when nothing changed. `--always` builds anyway
// (`npm run build`). tsc itself is incremental (dist/.tsbuildinfo): a rebuild redoes what changed.
// Its output goes to stderr: `TOKEN=$(npm run -s copydesk -- token …)` must capture the token alone.
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, utimesSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');
const inputs = ['src', 'projections', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

function newest(path) {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), info.mtimeMs);
}

const built = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? -1;
const stale =
  process.argv.includes('--always') ||
  !existsSync(join(root, 'dist', 'src', 'cli', 'main.js')) ||
  inputs.some((input) => newest(join(root, input)) > built);
if (!stale) process.exit(0);

// A source saved while tsc runs must count as newer than this build.
const started = new Date();
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: ['ignore', 2, 2] });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
writeFileSync(stamp, '');
utimesSync(stamp, started, started);

import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_DIR, MAIN_JS, ROOT } from './paths';

/**
 * Compiles src/ and projections/ into bench/out/build, so that the server and the rebuild run as
 * `npm start` runs them (plain node, no TypeScript compiler in their memory). Type errors elsewhere
 * in a work tree being edited do not stop the emit; they are reported and the run goes on.
 */
export function compile(log: (line: string) => void): string {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc');
  // Its own build info beside the output (tsconfig.build.json keeps dist/'s in dist/), so that it always emits in full.
  const args = [tsc, '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR, '--tsBuildInfoFile', join(BUILD_DIR, '.tsbuildinfo')];
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  if (!existsSync(MAIN_JS)) throw new Error(`tsc emitted nothing:\n${result.stdout}${result.stderr}`);
  if (result.status !== 0) log(`tsc reported type errors (emitted anyway):\n${result.stdout.split('\n').slice(0, 5).join('\n')}`);
  return MAIN_JS;
}

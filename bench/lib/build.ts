import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_DIR, MAIN_JS, OUT_DIR, ROOT } from './paths';

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

/**
 * Compiles another commit's src/ and projections/ (`--before REF`) into bench/out/before/build, so that
 * one run measures the work tree and that commit on the same machine, minutes apart. Returns its
 * `copydesk` command line.
 */
export function compileRef(ref: string, log: (line: string) => void): string {
  const dir = join(OUT_DIR, 'before');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = spawnSync('sh', ['-c', 'git archive "$0" src projections desk tsconfig.json tsconfig.build.json package.json | tar -x -C "$1"', ref, dir], { cwd: ROOT, encoding: 'utf8' });
  if (archive.status !== 0) throw new Error(`cannot check out ${ref}: ${archive.stderr}`);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const build = join(dir, 'build');
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', build, '--tsBuildInfoFile', join(build, '.tsbuildinfo')], { cwd: dir, encoding: 'utf8' });
  const main = join(build, 'src', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`tsc emitted nothing for ${ref}:\n${result.stdout}${result.stderr}`);
  log(`compiled ${ref} into ${build}`);
  return main;
}

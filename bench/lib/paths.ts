import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const OUT_DIR = join(ROOT, 'bench', 'out');
export const BUILD_DIR = join(OUT_DIR, 'build');
/** The compiled `copydesk` command line. */
export const MAIN_JS = join(BUILD_DIR, 'src', 'cli', 'main.js');
/** Shared by the server child, the rebuild child and the load generator's tokens. */
export const BENCH_SECRET = 'copydesk-bench-secret-which-is-long-enough';

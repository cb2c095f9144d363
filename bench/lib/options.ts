import { parseArgs, ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * The command line of a benchmark script, by Node's own parser (strict: an option it does not know,
 * or one missing its value, stops the script with exit code 2, saying which, before anything starts).
 * `--help` or `-h` prints `usage` and exits.
 */
export function commandLine<O extends Options>(usage: string, options: O, allowPositionals = false) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ options, allowPositionals, strict: true });
  } catch (error) {
    return refuse((error as Error).message, usage);
  }
}

/** A whole number of at least 1 from option `name`'s value, else the script stops saying so. */
export function count(name: string, value: string, usage: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) refuse(`--${name} must be a whole number of at least 1, not "${value}"`, usage);
  return n;
}

/** Stops a script over its command line: what is wrong, then how it is used. */
export function refuse(why: string, usage: string): never {
  console.error(`${why}\n${usage}`);
  process.exit(2);
}

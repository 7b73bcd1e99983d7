/** Command-line helpers shared by the benchmarks. */

/** An integer option (`_` allowed as a digit separator), `fallback` when absent; throws naming the option otherwise. */
export function integerOption(raw: string | undefined, fallback: number, name: string, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name}: expected an integer ${min}..${max}, got ${raw}`);
  return value;
}

/** Prints the usage and exits when --help was given. */
export function exitWithUsageIfAsked(help: boolean | undefined, usage: string): void {
  if (!help) return;
  console.log(usage);
  process.exit(0);
}

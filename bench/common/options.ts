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

/** What a latency run over several store sizes is told (bench:query, bench:opensearch). */
export interface LatencyOptions {
  /** Store sizes in alerts, smallest first; ratios compare the largest with the smallest. */
  sizes: number[];
  requests: number;
  warmup: number;
  /** Stop measuring one endpoint after this long, so a pathological one cannot eat the run. */
  endpointLimitS: number;
  only: RegExp | undefined;
}

/** The parseArgs entries of LatencyOptions besides the sizes (each run names its own size option). */
export const LATENCY_ARGS = {
  requests: { type: 'string' }, warmup: { type: 'string' }, 'endpoint-limit': { type: 'string' }, only: { type: 'string' },
} as const;

export interface LatencyDefaults {
  readonly sizes: string;
  readonly maxSize: number;
  readonly requests: number;
  readonly warmup: number;
}

/** The usage lines of LATENCY_ARGS. */
export function latencyUsage(defaults: LatencyDefaults): string {
  return `  --requests N          measured sequential requests per endpoint (default ${defaults.requests})
  --warmup N            unmeasured requests before them (default ${defaults.warmup})
  --endpoint-limit S    stop measuring one endpoint after S seconds (default 60); the row
                        then has fewer samples
  --only REGEX          measure only endpoints whose label matches`;
}

/** LatencyOptions from parsed values; `sizes` is the raw value of the run's size option (`name`). */
export function latencyOptions(values: { requests?: string; warmup?: string; 'endpoint-limit'?: string; only?: string },
  sizes: string | undefined, name: string, defaults: LatencyDefaults): LatencyOptions {
  const list = (sizes ?? defaults.sizes).split(',').map((s) => integerOption(s.trim(), 0, name, 1000, defaults.maxSize));
  return {
    sizes: [...new Set(list)].sort((a, b) => a - b),
    requests: integerOption(values.requests, defaults.requests, 'requests', 1, 1_000_000),
    warmup: integerOption(values.warmup, defaults.warmup, 'warmup', 0, 100_000),
    endpointLimitS: integerOption(values['endpoint-limit'], 60, 'endpoint-limit', 1, 86_400),
    only: values.only === undefined ? undefined : new RegExp(values.only),
  };
}

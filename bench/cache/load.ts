/**
 * The load generator, forked by run.ts into a process of its own so that its CPU is not the
 * orchestrator's and can be measured apart. It runs autocannon twice against one URL (warm-up,
 * then the measured window), tells the parent over IPC when the measured window starts, and
 * sends back the result. It exits on its own when done; the parent kills it if it overstays.
 */
export interface LoadJob {
  readonly url: string;
  readonly connections: number;
  readonly pipelining: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
}

export type LoadMessage =
  | { readonly type: 'measuring' }
  | { readonly type: 'result'; readonly result: LoadResult }
  | { readonly type: 'error'; readonly message: string };

export interface LoadResult {
  /** Completed requests in the measured window divided by its length. */
  readonly requestsPerSecond: number;
  /** Median of autocannon's per-second samples, less sensitive to a stall. */
  readonly perSecondMedian: number;
  readonly total: number;
  /** Requests completed in the warm-up (served, but not counted in the rate). */
  readonly warmupTotal: number;
  readonly seconds: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly bytesPerSecond: number;
  /** CPU seconds this process used in the measured window. */
  readonly cpuSeconds: number;
}

/** The part of autocannon's result we read (it ships no types). */
interface AutocannonResult {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly requests: { readonly total: number; readonly p50: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly throughput: { readonly average: number };
}

type Autocannon = (options: Record<string, unknown>, done: (error: Error | null, result: AutocannonResult) => void) => unknown;

function run(job: LoadJob, seconds: number): Promise<AutocannonResult> {
  const autocannon = require('autocannon') as Autocannon;
  return new Promise((resolve, reject) => {
    autocannon({
      url: job.url,
      connections: job.connections,
      pipelining: job.pipelining,
      duration: seconds,
      timeout: 10,
      // Keep-alive is autocannon's default: each connection sends its next request on the same socket.
    }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function main(job: LoadJob): Promise<void> {
  const warmup = job.warmupSeconds > 0 ? await run(job, job.warmupSeconds) : undefined;
  const cpu = process.cpuUsage();
  process.send!({ type: 'measuring' } satisfies LoadMessage);
  const r = await run(job, job.durationSeconds);
  const used = process.cpuUsage(cpu);
  const result: LoadResult = {
    requestsPerSecond: r.requests.total / r.duration,
    perSecondMedian: r.requests.p50,
    total: r.requests.total,
    warmupTotal: warmup?.requests.total ?? 0,
    seconds: r.duration,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    bytesPerSecond: r.throughput.average,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
  process.send!({ type: 'result', result } satisfies LoadMessage, () => process.exit(0));
}

if (require.main === module) {
  if (!process.send) {
    console.error('load.js is started by run.js (it needs an IPC channel)');
    process.exit(2);
  }
  // The parent going away must not leave us hammering a port.
  process.on('disconnect', () => process.exit(1));
  process.once('message', (job: LoadJob) => {
    main(job).catch((error: unknown) => {
      process.send?.({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies LoadMessage, () => process.exit(1));
    });
  });
}

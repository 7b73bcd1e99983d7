/**
 * Starts one single-node OpenSearch on a free loopback port, from the distribution that
 * distribution.ts assembles, and stops it again.
 *
 * Each node gets a run directory of its own under the system's temporary directory holding its
 * config (which must be writable: the server creates its keystore there), data, logs and the
 * server's output. The node is started detached, so a command-line `start` can return while it
 * keeps running; `stopNode` finds it again through the run directory.
 */
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ensureDistribution, DEFAULT_CACHE_DIR, ENGINES, type EngineName, type EngineSpec } from './distribution';

export interface NodeOptions {
  readonly cacheDir?: string;
  /** `opensearch` (default) or `elasticsearch` (7.17, the compatibility check). */
  readonly engine?: EngineName;
  readonly heapMb?: number;
  /** How long to wait for green before giving up, ms. */
  readonly startTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface RunningNode {
  readonly url: string;
  readonly pid: number;
  readonly runDir: string;
}

const NOBODY = 65534;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
  });
}

/**
 * The flags the distribution's launcher would set. Without the log4j ones a stop takes 30 s
 * (a shutdown hook waits); without the netty ones bulk indexing runs at a third of its speed.
 */
function jvmFlags(engine: EngineSpec, heapMb: number, home: string, config: string, tmp: string): string[] {
  const prefix = engine.propertyPrefix;
  return [
    `-Xms${heapMb}m`, `-Xmx${heapMb}m`,
    '-XX:+UseG1GC', '-XX:G1ReservePercent=25', '-XX:InitiatingHeapOccupancyPercent=30',
    '-Xss1m',
    '-Djava.awt.headless=true',
    '-Dfile.encoding=UTF-8',
    '-Djna.nosys=true',
    '-XX:-OmitStackTraceInFastThrow',
    '-Dio.netty.noUnsafe=true',
    '-Dio.netty.noKeySetOptimization=true',
    '-Dio.netty.recycler.maxCapacityPerThread=0',
    '-Dio.netty.allocator.numDirectArenas=0',
    '-Dlog4j.shutdownHookEnabled=false',
    '-Dlog4j2.disable.jmx=true',
    '-Dlog4j2.formatMsgNoLookups=true',
    '-Djava.locale.providers=SPI,COMPAT',
    `-Djava.io.tmpdir=${tmp}`,
    `-D${prefix}.path.home=${home}`,
    `-D${prefix}.path.conf=${config}`,
    `-D${prefix}.distribution.type=tar`,
    `-D${prefix}.bundled_jdk=false`,
    // Elasticsearch 7 asks which flavour it is; without x-pack modules it is the OSS one.
    ...(engine.name === 'elasticsearch' ? ['-Des.distribution.flavor=oss'] : []),
    '-cp', `${join(home, 'lib')}/*`,
    engine.mainClass,
  ];
}

function settings(runDir: string, httpPort: number, transportPort: number): string {
  return `cluster.name: peba-test
node.name: peba-test-node
path.data: ${join(runDir, 'data')}
path.logs: ${join(runDir, 'logs')}
network.host: 127.0.0.1
http.port: ${httpPort}
transport.port: ${transportPort}
discovery.type: single-node
# Test machines often have little free disk in percent terms; the watermarks would make indices read-only.
cluster.routing.allocation.disk.threshold_enabled: false
# Every test store has indices of its own; a suite run creates (and deletes) many.
cluster.max_shards_per_node: 10000
bootstrap.memory_lock: false
`;
}

const LOG4J_CONFIG = `status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.deprecation.name = org.opensearch.deprecation
logger.deprecation.level = error
`;

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), uid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

async function waitForGreen(url: string, pid: number, output: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) throw new Error(`OpenSearch exited during start-up; its output ends with:\n${tail(output)}`);
    try {
      const response = await fetch(`${url}/_cluster/health?wait_for_status=green&timeout=2s`, { signal: AbortSignal.timeout(5000) });
      const health = await response.json() as { status?: string };
      if (response.ok && health.status === 'green') return;
    } catch {
      // not listening yet
    }
    await delay(250);
  }
  throw new Error(`OpenSearch was not green after ${timeoutMs} ms; its output ends with:\n${tail(output)}`);
}

/** Starts a node and resolves once the cluster is green. */
export async function startNode(options: NodeOptions = {}): Promise<RunningNode> {
  const log = options.log ?? (() => {});
  const engine = ENGINES[options.engine ?? 'opensearch'];
  const home = ensureDistribution(options.cacheDir ?? DEFAULT_CACHE_DIR, log, engine);
  const asRoot = process.getuid?.() === 0;
  const runDir = mkdtempSync(join(tmpdir(), 'peba-opensearch-'));
  const config = join(runDir, 'config');
  for (const dir of [config, join(runDir, 'data'), join(runDir, 'logs'), join(runDir, 'tmp')]) mkdirSync(dir);
  const httpPort = await freePort();
  const transportPort = await freePort();
  writeFileSync(join(config, `${engine.name}.yml`), settings(runDir, httpPort, transportPort));
  writeFileSync(join(config, 'log4j2.properties'), LOG4J_CONFIG);
  // OpenSearch refuses to run as root: drop to nobody, who must own what the node writes.
  if (asRoot) chownTree(runDir, NOBODY);

  const java = process.env['JAVA_HOME'] !== undefined ? join(process.env['JAVA_HOME'], 'bin/java') : 'java';
  const args = jvmFlags(engine, options.heapMb ?? 512, home, config, join(runDir, 'tmp'));
  // Elasticsearch 7 refuses to start unless its launcher's LIBFFI_TMPDIR is set.
  const extraEnv: Record<string, string> = engine.name === 'elasticsearch' ? { LIBFFI_TMPDIR: join(runDir, 'tmp') } : {};
  const command = asRoot ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', java, ...args] : [java, ...args];
  const url = `http://127.0.0.1:${httpPort}`;
  const pid = launch(runDir, { pid: 0, url, command, env: extraEnv });
  log(`${engine.name} ${engine.version} starting (pid ${pid}) on ${url}, run directory ${runDir}`);
  try {
    await waitForGreen(url, pid, join(runDir, 'opensearch.out'), options.startTimeoutMs ?? 120_000);
  } catch (error) {
    await stopNode(runDir);
    throw error;
  }
  return { url, pid, runDir };
}

interface NodeRecord {
  readonly pid: number;
  readonly url: string;
  /** How the node was started, so that it can be started again on the same data and ports. */
  readonly command: readonly string[];
  /** Variables added to this process's environment for the node. */
  readonly env: Readonly<Record<string, string>>;
}

/** Starts the node's process detached (a CLI `start` returns while it runs) and records it (with its pid) in node.json. */
function launch(runDir: string, how: NodeRecord): number {
  const fd = openSync(join(runDir, 'opensearch.out'), 'a');
  const child = spawn(how.command[0]!, how.command.slice(1), { detached: true, stdio: ['ignore', fd, fd], cwd: runDir, env: { ...process.env, ...how.env } });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start java');
  child.unref();
  writeFileSync(join(runDir, 'node.json'), JSON.stringify({ ...how, pid }));
  return pid;
}

async function terminate(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (alive(pid) && Date.now() < deadline) await delay(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (alive(pid)) await delay(50);
}

/**
 * Restarts the node of a run directory in place (same data, same ports: clients keep their URL),
 * as an operator's `systemctl restart` would; resolves once it is green again.
 */
export async function restartNode(runDir: string, startTimeoutMs = 120_000): Promise<void> {
  const record = JSON.parse(readFileSync(join(runDir, 'node.json'), 'utf8')) as NodeRecord;
  await terminate(record.pid);
  const pid = launch(runDir, record);
  await waitForGreen(record.url, pid, join(runDir, 'opensearch.out'), startTimeoutMs);
}

/** Stops the node of a run directory (SIGTERM, SIGKILL after 30 s) and removes the directory. */
export async function stopNode(runDir: string): Promise<void> {
  const file = join(runDir, 'node.json');
  if (existsSync(file)) await terminate((JSON.parse(readFileSync(file, 'utf8')) as NodeRecord).pid);
  rmSync(runDir, { recursive: true, force: true });
}

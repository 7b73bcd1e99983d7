/**
 * Small helpers shared by the cache bench's parts: a bounded HTTP GET, waiting for a server, a
 * memcached daemon of our own (ports and CPU readings are in ../common/system).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { freePort } from '../common/system';

export const HOST = '127.0.0.1';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One request with a hard deadline (no request of the bench may hang). */
export function request(url: string, options: { method?: string; body?: string | Buffer; headers?: Record<string, string>; agent?: http.Agent; timeoutMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`${url}: no answer within ${options.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Waits until `url` answers 200 (the server is up and its store opened), or throws. */
export async function waitUntilServing(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${url}: the server exited (${child.exitCode ?? child.signalCode}) before serving`);
    try {
      const reply = await request(url, { timeoutMs: 2000 });
      if (reply.status === 200) return;
      last = `HTTP ${reply.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`${url}: not serving after ${timeoutMs} ms (${last})`);
}

// ---------------------------------------------------------------- memcached

const MEMCACHED_BINARIES = ['/usr/bin/memcached', '/usr/local/bin/memcached'];

export function memcachedBinary(): string | undefined {
  return MEMCACHED_BINARIES.find((path) => existsSync(path));
}

/** A memcached of our own on a free loopback port (TCP only, 64 MB), started empty. */
export async function startMemcached(onSpawn: (child: ChildProcess) => void): Promise<{ address: string; child: ChildProcess }> {
  const binary = memcachedBinary();
  if (!binary) throw new Error('memcached is not installed (apt-get install memcached)');
  const port = await freePort();
  // memcached refuses to run as root unless told which user to be.
  const user = process.getuid?.() === 0 ? ['-u', 'root'] : [];
  const child = spawn(binary, ['-l', HOST, '-p', String(port), '-U', '0', '-m', '64', ...user], { stdio: 'ignore' });
  onSpawn(child);
  const deadline = Date.now() + 5000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`memcached did not start on ${HOST}:${port}`);
    await sleep(20);
  }
  return { address: `${HOST}:${port}`, child };
}

export const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const fmtPct = (share: number): string => (Number.isFinite(share) ? `${Math.round(share * 100)}%` : 'n/a');

export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Large payload benchmark: one message of N dionaea alerts, each with a distinct
 * `Request type="largepayload"` sample of S MB (base64: 4/3 of that; ewsposter's send_malware,
 * 100 x 10 MB is about 1.3 GB), generated while it is sent, posted to a real server. Prints the
 * server's peak resident memory (VmHWM) against its idle memory and the body size, and the
 * throughput against the reference measured in the same run: the same message posted to a bare
 * Node HTTP server that only reads the body (the cost of moving the bytes, and of generating
 * them here).
 *
 *   npm run bench:large-payloads -- [--alerts N] [--sample-mb S] [--keep-mb K] [--synchronous full|normal]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { exitWithUsageIfAsked, integerOption } from '../common/options';
import { environmentWithoutPeba, freePort, processCpuSeconds } from '../common/system';

const INGEST_PATH = '/ews-0.1/alert/postSimpleMessage';
const SERVER_MAIN = path.resolve(__dirname, '../../src/cli/main.js');
const MB = 1024 * 1024;
/** Binary bytes per generated piece: a multiple of 3, so base64 pieces join without padding. */
const PIECE_BYTES = 48 * 1024;
const USAGE = `usage: npm run bench:large-payloads -- [options]
  --alerts N         alerts in the message, each with its own sample (default 100)
  --sample-mb S      MB per sample before base64 (default 10; 13.3 MB of base64)
  --keep-mb K        PAYLOAD_STORE_MAX_BYTES of the server in MB (default 5, the server's default)
  --synchronous M    PEBA_SQLITE_SYNCHRONOUS (default full)`;

const { values } = parseArgs({
  options: {
    alerts: { type: 'string' }, 'sample-mb': { type: 'string' }, 'keep-mb': { type: 'string' },
    synchronous: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  },
});
exitWithUsageIfAsked(values.help, USAGE);
const alerts = integerOption(values.alerts, 100, 'alerts', 1, 10_000);
const sampleChars = Math.ceil((integerOption(values['sample-mb'], 10, 'sample-mb', 1, 12) * MB) / 3) * 4;
const keepBytes = integerOption(values['keep-mb'], 5, 'keep-mb', 0, 1024) * MB;
const synchronous = values.synchronous ?? 'full';

/** Random bytes each piece starts from; a piece is made distinct by its alert and piece number. */
const POOL = randomBytes(4 * MB);

/** Incompressible sample bytes, distinct per alert and piece, cheap to make. */
function samplePiece(alert: number, piece: number, length: number): Buffer {
  const offset = ((alert * 7919 + piece * 104_729) % (POOL.length - PIECE_BYTES)) & ~7;
  const out = Buffer.from(POOL.subarray(offset, offset + length));
  out.writeUInt32LE(alert, 0);
  out.writeUInt32LE(piece, 4);
  return out;
}

/** The base64 pieces of one sample. */
function* sampleBase64(alert: number): Generator<string> {
  for (let chars = 0, piece = 0; chars < sampleChars; chars += (PIECE_BYTES / 3) * 4, piece++) {
    yield samplePiece(alert, piece, Math.min(PIECE_BYTES, ((sampleChars - chars) / 4) * 3)).toString('base64');
  }
}

function* message(): Generator<Buffer> {
  yield Buffer.from(`<EWS-SimpleMessage version="3.0">
  <Authentication><username>community-01-user</username><token>foth{a5maiCee8fineu7</token></Authentication>\n`);
  for (let i = 0; i < alerts; i++) {
    const time = new Date(Date.UTC(2026, 10, 27, 12, 0, 0) + i * 1000).toISOString().slice(0, 19).replace('T', ' ');
    yield Buffer.from(`  <Alert>
    <Analyzer id="dionaea-bench-large"/>
    <CreateTime tz="+0000">${time}</CreateTime>
    <Source category="ipv4" port="${40000 + (i % 20000)}" protocol="tcp">81.2.69.${(i % 250) + 1}</Source>
    <Target category="ipv4" port="445" protocol="tcp">89.160.20.112</Target>
    <Request type="description">Network Honeyport Dionaea</Request>
    <Request type="largepayload">`);
    for (const piece of sampleBase64(i)) yield Buffer.from(piece);
    yield Buffer.from('</Request>\n  </Alert>\n');
  }
  yield Buffer.from('</EWS-SimpleMessage>\n');
}

function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

function post(port: number, body: Iterable<Buffer>): Promise<{ status: number; text: string; bytes: number }> {
  let bytes = 0;
  const counted = (function* () {
    for (const chunk of body) {
      bytes += chunk.length;
      yield chunk;
    }
  })();
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: INGEST_PATH, method: 'POST', headers: { 'content-type': 'text/xml' } }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(parts).toString(), bytes }));
    });
    request.on('error', reject);
    Readable.from(counted).pipe(request);
  });
}

async function waitUntilListening(port: number, alive: () => boolean): Promise<void> {
  for (let tries = 0; tries < 600; tries++) {
    if (!alive()) throw new Error('server exited during start-up');
    const up = await new Promise<boolean>((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/heartbeat' }, (res) => { res.resume(); resolve(true); }).on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not answer');
}

/** Posts the same message to a bare HTTP server (its own process) that reads and drops the body. */
async function drainServerSeconds(): Promise<{ seconds: number; bytes: number }> {
  const port = await freePort();
  const code = `require('http').createServer((q, s) => { q.resume(); q.on('end', () => s.end('<StatusCode>OK</StatusCode>')); }).listen(${port}, '127.0.0.1')`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'inherit' });
  try {
    await waitUntilListening(port, () => child.exitCode === null);
    const started = performance.now();
    const reply = await post(port, message());
    return { seconds: (performance.now() - started) / 1000, bytes: reply.bytes };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'peba-bench-large-'));
  const port = await freePort();
  const env = Object.assign(environmentWithoutPeba(), {
    PEBA_STORE: `sqlite:${path.join(dir, 'peba.db')}`, PEBA_BINDHOST: `127.0.0.1:${port}`, PEBA_LOG_LEVEL: 'warn',
    PEBA_SQLITE_SYNCHRONOUS: synchronous, PEBA_PAYLOAD_STORE_MAX_BYTES: String(keepBytes),
  });
  const child = spawn(process.execPath, [SERVER_MAIN, '--config', '/dev/null', 'start'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    await waitUntilListening(port, () => child.exitCode === null);
    const pid = child.pid!;
    const idleKb = procStatusKb(pid, 'VmRSS');
    const cpuBefore = processCpuSeconds(pid);
    const started = performance.now();
    const reply = await post(port, message());
    const seconds = (performance.now() - started) / 1000;
    const cpu = processCpuSeconds(pid) - cpuBefore;
    const peakKb = procStatusKb(pid, 'VmHWM');
    if (!reply.text.includes('<StatusCode>OK</StatusCode>')) throw new Error(`not acknowledged: ${reply.status} ${reply.text}`);

    const reference = await drainServerSeconds();
    const mbps = reply.bytes / MB / seconds;
    const refMbps = reference.bytes / MB / reference.seconds;
    console.log(`large payloads: ${alerts} alerts x ${(sampleChars / MB).toFixed(1)} MB base64, one message of ${(reply.bytes / MB).toFixed(0)} MB; PAYLOAD_STORE_MAX_BYTES ${keepBytes / MB} MB; synchronous ${synchronous}`);
    console.log(`  acknowledged after ${seconds.toFixed(1)} s: ${mbps.toFixed(1)} MB/s; server CPU ${cpu.toFixed(1)} s (${(reply.bytes / MB / cpu).toFixed(0)} MB per CPU second)`);
    console.log(`  reference, same run: a bare server that only reads the body, ${reference.seconds.toFixed(1)} s: ${refMbps.toFixed(1)} MB/s; ratio ${(mbps / refMbps * 100).toFixed(0)} %`);
    console.log(`  server RSS idle ${(idleKb / 1024).toFixed(0)} MB, peak (VmHWM) ${(peakKb / 1024).toFixed(0)} MB: +${((peakKb - idleKb) / 1024).toFixed(0)} MB for a ${(reply.bytes / MB).toFixed(0)} MB body`);
    console.log(`  (shared 2-core machine, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

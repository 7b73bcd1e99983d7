/**
 * The retrieval endpoints the query benchmarks ask (CONTRACT sections 5-6) and how one is
 * measured: sequential requests over one keep-alive connection. Shared by bench/query (SQLite)
 * and bench/opensearch, so both stores answer the same questions.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { formatUtc } from '../../src/domain/time';
import { DAY_MS } from './generator';

export const DEFAULT_RESPONSE = 'Nope';
/** The user the private endpoints are asked as; the benchmarks add it before starting the server. */
export const USER = 'bench';
export const TOKEN = 'bench';
const BASIC_AUTH = `Basic ${Buffer.from(`${USER}:${TOKEN}`).toString('base64')}`;
const AUTH_BODY = `<EWS-SimpleMessage version="3.0"><Authentication><username>${USER}</username><token>${TOKEN}</token></Authentication></EWS-SimpleMessage>`;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  // Nearest rank: with 300 samples p99 is the 297th, i.e. 3 slower requests are allowed.
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

export interface Endpoint {
  readonly label: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** `list`: answers raw alerts (grows with the data rate); `stats`: aggregates; `reference`: trivial. */
  readonly kind: 'list' | 'stats' | 'reference';
}

export interface Reply {
  readonly status: number;
  readonly body: string;
}

export function request(agent: http.Agent, port: number, endpoint: Pick<Endpoint, 'method' | 'path'>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = endpoint.method === 'POST' ? Buffer.from(AUTH_BODY) : undefined;
    const req = http.request({
      host: '127.0.0.1', port, path: endpoint.path, method: endpoint.method, agent,
      // GET endpoints ignore the header; the firewall feeds need it.
      headers: body ? { 'content-type': 'text/xml', 'content-length': body.length } : { authorization: BASIC_AUTH },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('no reply within 60 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A public address no generated alert comes from. */
export const UNSEEN_SOURCE = '8.8.8.8';

export function endpoints(hotSource: string, rareSource: string, now: number): Endpoint[] {
  const yesterday = formatUtc(now - DAY_MS).slice(0, 10).replace(/-/g, '');
  const types = encodeURIComponent('Network(honeytrap),SSH/console(cowrie),Network(Dionaea),Webpage');
  const list = (label: string, p: string): Endpoint => ({ label, method: 'POST', path: p, kind: 'list' });
  const stats = (label: string, p: string, kind: Endpoint['kind'] = 'stats'): Endpoint => ({ label, method: 'GET', path: p, kind });
  return [
    list('retrieveIPs (120 min)', '/alert/retrieveIPs'),
    list('retrieveIPs out=json', '/alert/retrieveIPs?out=json'),
    list('retrieveIPs15m', '/alert/retrieveIPs15m'),
    list('retrieveAlertsCyber', '/alert/retrieveAlertsCyber'),
    list('retrieveAlertsCyber ci=-1', '/alert/retrieveAlertsCyber?ci=-1'),
    list('querySingleIP (hottest source)', `/alert/querySingleIP?ip=${encodeURIComponent(hotSource)}`),
    // Most addresses a user looks up are rare or unseen: a different plan can answer those.
    list('querySingleIP (rare source)', `/alert/querySingleIP?ip=${encodeURIComponent(rareSource)}`),
    list('querySingleIP (unseen source)', `/alert/querySingleIP?ip=${UNSEEN_SOURCE}`),
    // Firewall feeds (GET with Basic credentials): the same raw window as retrieveIPs, with conditions.
    { ...stats('feed txt (120 min)', '/feed/badips.txt?minutes=120'), kind: 'list' },
    { ...stats('feed csv (15 min)', '/feed/badips.csv?minutes=15'), kind: 'list' },
    { ...stats('feed nft (24 h, min_count=50, min_sensors=2)', '/feed/badips.nft?minutes=1440&min_count=50&min_sensors=2'), kind: 'list' },
    // Long windows: whole hours from the hourly source aggregate, raw alerts only at the edges.
    { ...stats('feed csv (24 h)', '/feed/badips.csv?minutes=1440'), kind: 'list' },
    { ...stats('feed txt (7 d)', '/feed/badips.txt?minutes=10080'), kind: 'list' },
    { ...stats('feed csv (7 d, class=SSH/console(cowrie), min_sensors=2)', `/feed/badips.csv?minutes=10080&class=${encodeURIComponent('SSH/console(cowrie)')}&min_sensors=2`), kind: 'list' },
    { ...stats('feed ipset (7 d, family=6)', '/feed/badips.ipset?minutes=10080&family=6'), kind: 'list' },
    { ...stats('retrieveAlertsJson', '/alert/retrieveAlertsJson'), kind: 'list' },
    { ...stats('retrieveAlertsJson ci=-1', '/alert/retrieveAlertsJson?ci=-1'), kind: 'list' },
    stats('retrieveAlertsCount time=10', '/alert/retrieveAlertsCount?time=10&out=json'),
    stats('retrieveAlertsCount time=day', '/alert/retrieveAlertsCount?time=day&out=json'),
    stats('retrieveAlertsCount time=day ci=-1', '/alert/retrieveAlertsCount?time=day&out=json&ci=-1'),
    stats('retrieveAlertsCountWithType time=10', '/alert/retrieveAlertsCountWithType?time=10'),
    stats('retrieveAlertsCountWithType time=day', '/alert/retrieveAlertsCountWithType?time=day'),
    stats('retrieveAlertStats', '/alert/retrieveAlertStats'),
    stats('retrieveAlertStats ci=-1', '/alert/retrieveAlertStats?ci=-1'),
    stats('datasetAlertsPerMonth', '/alert/datasetAlertsPerMonth'),
    stats('datasetAlertTypesPerMonth', '/alert/datasetAlertTypesPerMonth'),
    stats('topCountriesAttacks', '/alert/topCountriesAttacks'),
    stats('retrieveLatLonAttacks src', '/alert/retrieveLatLonAttacks?direction=src'),
    stats('retrieveLatLonAttacks dst', '/alert/retrieveLatLonAttacks?direction=dst'),
    stats('retrieveLatLonAttacks src offset=1', '/alert/retrieveLatLonAttacks?direction=src&offset=1'),
    stats('TpotStats (yesterday)', `/alert/TpotStats?day=${yesterday}`),
    stats('getStats (24 h, 4 types)', `/alert/getStats?values=${types}`),
    stats('tops urls days=1', '/alert/tops?type=urls&topx=10&days=1'),
    stats('tops urls days=7', '/alert/tops?type=urls&topx=10&days=7'),
    stats('tops urls days=28', '/alert/tops?type=urls&topx=10&days=28'),
    stats('tops destports days=1', '/alert/tops?type=destports&topx=10&days=1'),
    stats('tops destports days=7', '/alert/tops?type=destports&topx=10&days=7'),
    stats('tops destports days=28', '/alert/tops?type=destports&topx=10&days=28'),
    stats('tops destports days=28 ci=-1', '/alert/tops?type=destports&topx=10&days=28&ci=-1'),
    // Last, so the server is as warm as for the others: the bare HTTP round trip to compare with.
    stats('heartbeat (reference)', '/heartbeat', 'reference'),
  ];
}

export interface MeasureOptions {
  readonly warmup: number;
  readonly requests: number;
  /** Stop measuring one endpoint after this long, so a pathological one cannot eat the run. */
  readonly endpointLimitS: number;
}

export interface Measurement {
  readonly samplesMs: number[];
  readonly errors: number;
  readonly errorSample: string | undefined;
  readonly bytes: number;
  readonly stoppedEarly: boolean;
}

/** Sequential requests over one keep-alive connection: latency as one client sees it. */
export async function measure(port: number, endpoint: Endpoint, options: MeasureOptions): Promise<Measurement> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samplesMs: number[] = [];
  let errors = 0;
  let errorSample: string | undefined;
  let bytes = 0;
  let stoppedEarly = false;
  const started = performance.now();
  const deadline = started + options.endpointLimitS * 1000;
  // Warm-up gets at most a quarter of the time limit, so a very slow endpoint still gets samples.
  const warmupDeadline = started + options.endpointLimitS * 250;
  try {
    for (let i = 0; i < options.warmup + options.requests; i++) {
      if (i < options.warmup && performance.now() > warmupDeadline) i = options.warmup;
      if (i >= options.warmup && performance.now() > deadline && samplesMs.length >= 3) {
        stoppedEarly = true;
        break;
      }
      const t0 = performance.now();
      let reply: Reply;
      try {
        reply = await request(agent, port, endpoint);
      } catch (error) {
        reply = { status: 0, body: String(error) };
      }
      const ms = performance.now() - t0;
      const ok = reply.status === 200 && reply.body.trim() !== DEFAULT_RESPONSE;
      if (!ok) {
        errors++;
        errorSample ??= `HTTP ${reply.status}: ${reply.body.slice(0, 200)}`;
      }
      bytes = Buffer.byteLength(reply.body);
      if (i >= options.warmup) samplesMs.push(ms);
    }
  } finally {
    agent.destroy();
  }
  return { samplesMs, errors, errorSample, bytes, stoppedEarly };
}


/** Shared test fixtures: paths to test/fixtures, a configured app on a temporary store, EWS messages. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createApp, type App } from '../src/app';
import { loadConfig, type Config } from '../src/config';
import { createHash } from 'node:crypto';
import { BLANK_ALERT_DOCUMENT, type AlertDocument, type AlertRecord } from '../src/domain/alert';
import { formatUtc } from '../src/domain/time';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import { sha512Hex } from '../src/auth/tokens';
import { after as afterAll, before as beforeAll, mock } from 'node:test';
import { openSearchUrl, removeTestIndices, testIndexNames } from './opensearch-node';

/** The repository root (tests run compiled, from dist/test). */
export const REPO_ROOT = resolve(__dirname, '../..');
/** The fixtures live in the repository (test/fixtures, licenses in its README), so a clone alone runs the tests. */
export const FIXTURES_DIR = join(REPO_ROOT, 'test/fixtures');
export const EWS_FIXTURES = join(FIXTURES_DIR, 'ews');
export const GEOIP_FIXTURES = join(FIXTURES_DIR, 'geoip');

/** A small deterministic PRNG in [0, 1), so a failure can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Pieces of text a serializer or hash must treat exactly: quotes, backslashes, controls, non-ASCII, lone surrogate halves. */
const HOSTILE_PIECES = ['a', 'Z', '0', ' ', '"', '\\', '/', '\u0000', '\n', '\r', '\t', '\u001f', '\u007f', 'ü', '€', '\u2028', '\ufeff',
  '😀', '\ud83d', '\ude00', '\ud800', '\udc00', '{"x":1}', ':'];

/** A string of up to `maxPieces` hostile pieces (possibly empty), drawn from `random`. */
export function hostileText(random: () => number, maxPieces = 12): string {
  let text = '';
  const pieces = Math.floor(random() * (maxPieces + 1));
  for (let i = 0; i < pieces; i++) text += HOSTILE_PIECES[Math.floor(random() * HOSTILE_PIECES.length)]!;
  return text;
}

export const COMMUNITY = { username: 'community-01-user', token: 'foth{a5maiCee8fineu7' };

export function readFixture(name: string): string {
  return readFileSync(join(EWS_FIXTURES, name), 'utf8');
}

export function tempDir(prefix = 'peba-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Configuration for tests: a store in `dir`, MaxMind's test databases, no logging, no answer cache. */
/** Runs `run` on a fresh SQLite store in a temporary directory, closed and removed afterwards. */
export async function withStore(run: (store: SqliteStore, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const store = new SqliteStore({ path: join(dir.path, 'peba.db'), synchronous: 'normal' });
  try {
    await run(store, dir.path);
  } finally {
    await store.close();
    dir.remove();
  }
}

/**
 * The store the endpoint tests run on: SQLite, or with `PEBA_TEST_STORE=opensearch` (the second
 * pass of `npm test`) the launcher's OpenSearch node, under index names of their own, with
 * writes visible when acknowledged.
 */
export const TEST_STORE_KIND = process.env['PEBA_TEST_STORE'] === 'opensearch' ? 'opensearch' : 'sqlite';

function storeOverrides(dir: string): Partial<Record<keyof Config, string>> {
  if (TEST_STORE_KIND === 'sqlite') return { STORE: `sqlite:${join(dir, 'peba.db')}` };
  const names = testIndexNames();
  return {
    STORE: `opensearch+${openSearchUrl()}`, ALERTINDEX: names.alertPrefix, USERINDEX: names.users, STATISTICINDEX: names.statistics,
    CVEINDEX: names.cve, PAYLOADINDEX: names.payloads, LEASEINDEX: names.leases, OPENSEARCH_REFRESH: 'true',
  };
}

/** Removes what a test store left: the OpenSearch indices of a config (a SQLite file goes with its directory). */
export async function removeTestStore(config: Config): Promise<void> {
  if (!config.STORE.startsWith('opensearch')) return;
  await removeTestIndices({
    alertPrefix: config.ALERTINDEX, users: config.USERINDEX, statistics: config.STATISTICINDEX,
    cve: config.CVEINDEX, payloads: config.PAYLOADINDEX, leases: config.LEASEINDEX,
  });
}

export function testConfig(dir: string, overrides: Partial<Record<keyof Config, string>> = {}): Config {
  return loadConfig({
    env: {},
    file: undefined,
    overrides: {
      ...storeOverrides(dir),
      GEOIP_CITY: join(GEOIP_FIXTURES, 'GeoLite2-City-Test.mmdb'),
      GEOIP_ASN: join(GEOIP_FIXTURES, 'GeoLite2-ASN-Test.mmdb'),
      LOG_LEVEL: 'silent',
      BINDHOST: '127.0.0.1:0',
      // Answers straight from the store unless a test is about caching.
      CACHE: 'off',
      // Tests refuse many credentials from one address on purpose; only the limit's own tests limit.
      AUTH_FAILURES_PER_MINUTE: '0',
      ...overrides,
    },
  });
}

export interface RunningApp {
  readonly app: App;
  readonly url: string;
  readonly dir: string;
  close(): Promise<void>;
}

/** Starts a full app listening on a free loopback port. */
export async function startApp(overrides: Partial<Record<keyof Config, string>> = {}): Promise<RunningApp> {
  const dir = tempDir();
  const config = testConfig(dir.path, overrides);
  const app = createApp(config);
  // A store that sets itself up on first use (OpenSearch's templates and indices) does so now,
  // not inside a test's timing.
  await app.store.ping();
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    dir: dir.path,
    async close() {
      await app.close();
      await removeTestStore(config);
      dir.remove();
    },
  };
}

export interface AlertSpec {
  analyzer?: string;
  createTime?: string;
  tz?: string;
  source?: string;
  sourcePort?: string;
  sourceProtocol?: string;
  target?: string;
  targetPort?: string;
  requests?: Record<string, string>;
  additional?: Record<string, string>;
}

/** One `<Alert>` element; values are inserted as written (escape them yourself if needed). */
export function alertXml(spec: AlertSpec = {}): string {
  const requests = Object.entries(spec.requests ?? { description: 'SSH Honeypot Cowrie' })
    .map(([type, value]) => `    <Request type="${type}">${value}</Request>`).join('\n');
  const additional = Object.entries(spec.additional ?? {})
    .map(([meaning, value]) => `    <AdditionalData meaning="${meaning}" type="string">${value}</AdditionalData>`).join('\n');
  return `  <Alert>
    <Analyzer id="${spec.analyzer ?? 'cowrie-community-01'}"/>
    <CreateTime tz="${spec.tz ?? '+0000'}">${spec.createTime ?? '2026-11-27 10:00:00'}</CreateTime>
    <Source category="ipv4" port="${spec.sourcePort ?? '52202'}" protocol="${spec.sourceProtocol ?? 'tcp'}">${spec.source ?? '81.2.69.142'}</Source>
    <Target category="ipv4" port="${spec.targetPort ?? '22'}" protocol="tcp">${spec.target ?? '89.160.20.112'}</Target>
${requests}
${additional}
  </Alert>`;
}

/** A whole EWS message with the given alerts and credentials (community by default). */
export function ewsMessage(alerts: string[], credentials = COMMUNITY): string {
  return `<EWS-SimpleMessage version="3.0">
  <Authentication>
    <username>${credentials.username}</username>
    <token>${credentials.token}</token>
  </Authentication>
${alerts.join('\n')}
</EWS-SimpleMessage>`;
}

export async function postMessage(url: string, body: string, headers: Record<string, string> = { 'content-type': 'text/xml' }): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/ews-0.1/alert/postSimpleMessage`, { method: 'POST', body, headers });
  return { status: response.status, text: await response.text() };
}

export const OK_REPLY = '<Result><StatusCode>OK</StatusCode><Text></Text></Result>';

// ---------------------------------------------------------------------------------------------
// Hand-built alerts for the query tests: stored directly (store.storeAlerts) with chosen times.
// ---------------------------------------------------------------------------------------------

let alertSerial = 0;

/** A fresh, unique 32-hex-digit alert id. */
export function alertId(): string {
  return createHash('md5').update(`query-test-alert-${process.pid}-${++alertSerial}`).digest('hex');
}

/**
 * One stored alert with sensible defaults: community cowrie alert from 81.2.69.142 (GB) to
 * 89.160.20.112 (SE), created and received now. Override any document field.
 */
export function alertRecord(overrides: Partial<AlertDocument> = {}, id: string = alertId()): AlertRecord {
  const now = formatUtc(Date.now());
  const document: AlertDocument = {
    ...BLANK_ALERT_DOCUMENT,
    createTime: now,
    recievedTime: now,
    clientDomain: true,
    peerIdent: 'cowrie-query-01',
    peerType: 'SSH/console(cowrie)',
    sourceEntryIp: '81.2.69.142',
    sourceEntryPort: '52202',
    targetEntryIp: '89.160.20.112',
    targetEntryPort: '22',
    targetport: 'tcp',
    country: 'GB',
    countryName: 'United Kingdom',
    sourceEntryAS: 'AS20712 Andrews & Arnold Ltd',
    location: '51.5142 , -0.0931',
    targetCountry: 'SE',
    targetCountryName: 'Sweden',
    targetEntryAS: 'AS29518 Bredband2 AB',
    locationDestination: '58.4167 , 15.6167',
    originalRequestString: 'ls -la',
    ...overrides,
  };
  return { id, document, cves: [], payloads: [] };
}

/** createTime and recievedTime both at `epochMs` (UTC text). */
export function at(epochMs: number): Pick<AlertDocument, 'createTime' | 'recievedTime'> {
  const text = formatUtc(epochMs);
  return { createTime: text, recievedTime: text };
}

/** `n` alerts with the same overrides (distinct ids). */
export function alertRecords(n: number, overrides: Partial<AlertDocument> = {}): AlertRecord[] {
  return Array.from({ length: n }, () => alertRecord(overrides));
}

/** A private-domain user in the app's store; returns its credentials. */
export async function addPrivateUser(running: RunningApp, username = 'private-query-user', token = 'Priv4te-T0ken'): Promise<{ username: string; token: string }> {
  await running.app.store.putUser({ peerName: username, tokenHash: sha512Hex(token), community: false, getOnly: false, email: '' });
  return { username, token };
}

/** The body of a private query: an EWS message with only `Authentication`. */
export function queryBody(credentials: { username: string; token: string }): string {
  return `<EWS-SimpleMessage version="3.0">
  <Authentication>
    <username>${credentials.username}</username>
    <token>${credentials.token}</token>
  </Authentication>
</EWS-SimpleMessage>`;
}

/**
 * Freezes `Date` for the calling file (call it at the top level): the test and the server then
 * share one "now", so windows tested to the second do not drift while a loaded machine runs the
 * file. The frozen time is the middle of the previous UTC hour, away from every hour and day line.
 * Timers stay real.
 */
export function useFrozenDate(): number {
  const hour = 3_600_000;
  const now = Math.floor(Date.now() / hour) * hour - hour / 2 + 500;
  beforeAll(() => mock.timers.enable({ apis: ['Date'], now }));
  afterAll(() => mock.timers.reset());
  return now;
}

/**
 * Waits, if needed, so that the next `marginMs` do not cross a multiple of `gridMs` (UTC hour,
 * day, ...): a test that sets alerts relative to a grid line then sees the same line as the server.
 */
export async function awayFromGridLine(gridMs: number, marginMs = 3000): Promise<void> {
  const intoGrid = Date.now() % gridMs;
  if (intoGrid > gridMs - marginMs) await new Promise((resolve) => setTimeout(resolve, gridMs - intoGrid + 50));
}

export interface FetchedText {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
}

/** GET (or `init`) `url` and read the whole body as text; redirects are not followed. */
export async function fetchText(url: string, init: RequestInit = {}): Promise<FetchedText> {
  const response = await fetch(url, { redirect: 'manual', ...init });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** GET `url`, expect 200 and a JSON body, and return it parsed. */
export async function fetchJson(url: string): Promise<unknown> {
  const reply = await fetchText(url);
  if (reply.status !== 200) throw new Error(`${url}: status ${reply.status}: ${reply.text}`);
  try {
    return JSON.parse(reply.text) as unknown;
  } catch {
    throw new Error(`${url}: not JSON: ${reply.text}`);
  }
}


export interface GroupApp {
  /** The running app (available once the group's `before` hook ran). */
  readonly running: RunningApp;
  /** GET a path of the app, expecting 200 JSON. */
  get(path: string): Promise<unknown>;
  /** Stores the records directly, asserting they were all new. */
  store(records: readonly AlertRecord[]): Promise<void>;
}

/** Registers before/after hooks in the current describe(): one app for the group, closed afterwards. */
export function useApp(overrides: Partial<Record<keyof Config, string>> = {}): GroupApp {
  let running: RunningApp | undefined;
  beforeAll(async () => {
    running = await startApp(overrides);
  });
  afterAll(async () => {
    await running?.close();
  });
  return {
    get running(): RunningApp {
      if (!running) throw new Error('the app is not started yet');
      return running;
    },
    get(path) {
      return fetchJson(this.running.url + path);
    },
    async store(records) {
      const outcome = await this.running.app.store.storeAlerts(records);
      if (outcome.inserted !== records.length) throw new Error(`stored ${outcome.inserted} of ${records.length} alerts`);
    },
  };
}

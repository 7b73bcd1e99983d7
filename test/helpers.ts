/** Shared test fixtures: paths to ../shared, a configured app on a temporary store, EWS messages. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createApp, type App } from '../src/app';
import { loadConfig, type Config } from '../src/config';

/** The repository root (tests run compiled, from dist/test). */
export const REPO_ROOT = resolve(__dirname, '../..');
/** `../shared` beside the repository, as on every developer machine and in CI. */
export const SHARED_DIR = process.env['PEBA_SHARED_DIR'] ?? resolve(REPO_ROOT, '../shared');
export const EWS_FIXTURES = join(SHARED_DIR, 'fixtures/ews');
export const GEOIP_FIXTURES = join(SHARED_DIR, 'fixtures/geoip');

export const COMMUNITY = { username: 'community-01-user', token: 'foth{a5maiCee8fineu7' };

export function readFixture(name: string): string {
  return readFileSync(join(EWS_FIXTURES, name), 'utf8');
}

export function tempDir(prefix = 'peba-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Configuration for tests: a store in `dir`, MaxMind's test databases, no logging. */
export function testConfig(dir: string, overrides: Partial<Record<keyof Config, string>> = {}): Config {
  return loadConfig({
    env: {},
    file: undefined,
    overrides: {
      STORE: `sqlite:${join(dir, 'peba.db')}`,
      GEOIP_CITY: join(GEOIP_FIXTURES, 'GeoLite2-City-Test.mmdb'),
      GEOIP_ASN: join(GEOIP_FIXTURES, 'GeoLite2-ASN-Test.mmdb'),
      LOG_LEVEL: 'silent',
      BINDHOST: '127.0.0.1:0',
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
  const app = createApp(testConfig(dir.path, overrides));
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    dir: dir.path,
    async close() {
      await app.close();
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

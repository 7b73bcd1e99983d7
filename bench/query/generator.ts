/**
 * Realistic synthetic alerts for the query benchmark, built directly as AlertRecords (no XML,
 * no GeoIP) so ten million of them can be produced in minutes. Deterministic for a given seed:
 * the same pools of sources, sensors and URLs every run, so two database sizes differ only in
 * how much data they hold, not in its shape.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AlertDocument, AlertRecord, PayloadSighting } from '../../src/domain/alert';
import { formatUtc } from '../../src/domain/time';
import { AS_ORGS, COUNTRIES, CVES, DAEMONS, PASSWORDS, SHELL_INPUTS, urlPool, USERNAMES, type Daemon } from './world';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/store/range-split';

/** Bump when the generated data changes shape: cached databases of another version are rebuilt. */
export const GENERATOR_VERSION = 1;

export { DAY_MS, HOUR_MS, MINUTE_MS };

/** Distinct attack sources the Zipf draw picks from; most of them appear at 10M alerts. */
const SOURCE_POOL = 600_000;
const IPV6_SHARE = 0.03;
const UNKNOWN_GEO_SHARE = 0.02;
const COMMUNITY_SENSORS = 270;
const PRIVATE_SENSORS = 30;
const COMMUNITY_SHARE = 0.9;
const URL_POOL = 3000;
const PAYLOAD_POOL = 300;
const CITIES_PER_COUNTRY = 12;

// ---------------------------------------------------------------- randomness

/** sfc32: fast, good enough for synthetic data, and seedable (Math.random is not). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** A 32-bit integer hash (murmur3 finalizer): per-entity attributes without storing them. */
export function hash32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const unit = (x: number): number => hash32(x) / 4294967296;

/** Draws from a fixed discrete distribution by binary search over its cumulative weights. */
export class Discrete {
  private readonly cumulative: Float64Array;

  constructor(weights: ArrayLike<number>) {
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) this.cumulative[i] = sum += weights[i]!;
    for (let i = 0; i < weights.length; i++) this.cumulative[i]! /= sum;
  }

  /** Index in [0, n); 0 is the heaviest for Zipf weights. */
  draw(rng: Rng): number {
    const u = rng.next();
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Zipf-Mandelbrot weights 1/(rank+q)^s: a heavy head without one source owning everything. */
export function zipfWeights(n: number, s: number, q: number): Float64Array {
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) weights[i] = 1 / Math.pow(i + 1 + q, s);
  return weights;
}

// ---------------------------------------------------------------- entities

/** A public IPv4 address derived from `key`, avoiding private, reserved and multicast space. */
function publicIpv4(key: number): string {
  for (let salt = 0; ; salt++) {
    const h = hash32(key * 31 + salt * 0x632be5ab + 0x1234567);
    const a = h >>> 24;
    const b = (h >>> 16) & 255;
    if (a === 0 || a === 10 || a === 127 || a >= 224 || (a === 100 && b >= 64 && b < 128) || (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 198 && (b === 18 || b === 19))) continue;
    return `${a}.${b}.${(h >>> 8) & 255}.${(h & 255) || 1}`;
  }
}

const IPV6_PREFIXES = ['2a01:4f8', '2604:a880', '2001:41d0', '240e:3b7', '2a02:4780', '2400:8902'];

function publicIpv6(key: number): string {
  const h = hash32(key ^ 0x5bd1e995);
  const g = hash32(key + 0x27d4eb2d);
  return `${IPV6_PREFIXES[h % IPV6_PREFIXES.length]}:${((h >>> 8) & 0xffff).toString(16)}::${((g & 0xffff) || 1).toString(16)}`;
}

interface Place {
  readonly country: string;
  readonly countryName: string;
  readonly location: string;
}

/** GeoIP prints coordinates as short decimals; keep the same look. */
const coordinate = (x: number): string => String(Math.round(x * 10_000) / 10_000);

/** Each country has a few "cities": its reference point shifted by a fixed pattern. */
const PLACES: Place[][] = COUNTRIES.map((c) => Array.from({ length: CITIES_PER_COUNTRY }, (_, i) => ({
  country: c.code,
  countryName: c.name,
  location: `${coordinate(c.lat + (i === 0 ? 0 : ((hash32(i * 97 + c.lat * 1000) % 600) - 300) / 100))} , ${coordinate(
    c.lon + (i === 0 ? 0 : ((hash32(i * 131 + c.lon * 1000) % 800) - 400) / 100))}`,
})));
const UNKNOWN_PLACE: Place = { country: '-', countryName: '-', location: '0.0 , 0.0' };

const sourceCountries = new Discrete(COUNTRIES.map((c) => c.source));
const targetCountries = new Discrete(COUNTRIES.map((c) => c.target));
/** City weights within a country: the first city is the biggest. */
const cities = new Discrete(zipfWeights(CITIES_PER_COUNTRY, 1.2, 0));

interface Source {
  readonly ip: string;
  readonly place: Place;
  readonly as: string;
}

interface Sensor {
  readonly hostname: string;
  readonly ip: string;
  readonly internalIp: string;
  readonly place: Place;
  readonly as: string;
  readonly tag: string;
  readonly daemons: ReadonlySet<number>;
  readonly peerIdents: readonly string[];
}

function makeSensor(index: number, community: boolean): Sensor {
  const rng = new Rng(0x5e45 + index * 7919 + (community ? 0 : 1_000_003));
  const hex = hash32(index + (community ? 11 : 12345)).toString(16).padStart(8, '0');
  // T-Pot installs that do not send their hostname report `undefined`; they are told apart by target IP.
  const hostname = index % 6 === 0 ? 'undefined' : `${community ? 'tpot' : 'corp-hp'}-${hex.slice(0, 6)}`;
  const country = targetCountries.draw(rng);
  const daemons = new Set<number>();
  DAEMONS.forEach((_, d) => {
    if (d < 3 || rng.next() < 0.8) daemons.add(d);
  });
  const tag = `${community ? 'community' : 'private'}-${hex}`;
  return {
    hostname,
    ip: publicIpv4(0x7000_0000 + index * 2 + (community ? 0 : 1)),
    internalIp: `${rng.pick(['10.0', '172.17', '192.168'])}.${rng.int(256)}.${1 + rng.int(254)}`,
    place: PLACES[country]![cities.draw(rng)]!,
    as: `AS${24940 + rng.int(40000)} ${rng.pick(AS_ORGS)}`,
    tag,
    daemons,
    peerIdents: DAEMONS.map((d) => `${d.name}-${tag}`),
  };
}

// ---------------------------------------------------------------- traffic shape

/**
 * Relative alert rate of one minute (absolute epoch minute): a day/night swing, days that are
 * busier than others, and rare hour-long scan campaigns. Depends only on the minute, so a
 * later top-up continues the same curve.
 */
export function minuteWeight(minute: number): number {
  const hour = Math.floor(minute / 60);
  const day = Math.floor(minute / 1440);
  const hourOfDay = (minute % 1440) / 60;
  const diurnal = 1 + 0.35 * Math.sin((2 * Math.PI * (hourOfDay - 9)) / 24);
  const dayFactor = 0.75 + 0.5 * unit(day * 2654435761);
  const campaign = unit(hour * 40503 + 17) < 0.03 ? 4 : 1;
  return diurnal * dayFactor * campaign;
}

/** Sum of minute weights over [from, to) (whole minutes). */
export function weightBetween(from: number, to: number): number {
  let sum = 0;
  for (let m = Math.floor(from / MINUTE_MS); m < Math.ceil(to / MINUTE_MS); m++) sum += minuteWeight(m);
  return sum;
}

// ---------------------------------------------------------------- the generator

type Payload = PayloadSighting;

export class AlertGenerator {
  private readonly rng: Rng;
  private readonly sources = new Discrete(zipfWeights(SOURCE_POOL, 1.0, 3));
  private readonly sourceCache: Array<Source | undefined> = new Array(SOURCE_POOL);
  private readonly communitySensors: Sensor[];
  private readonly privateSensors: Sensor[];
  private readonly communitySensorDraw = new Discrete(zipfWeights(COMMUNITY_SENSORS, 0.6, 2));
  private readonly privateSensorDraw = new Discrete(zipfWeights(PRIVATE_SENSORS, 0.6, 2));
  private readonly daemonDraw = new Discrete(DAEMONS.map((d) => d.weight));
  private readonly portDraws = DAEMONS.map((d) => new Discrete(d.ports.map(([, w]) => w)));
  private readonly urls = urlPool(URL_POOL);
  private readonly urlDraw = new Discrete(zipfWeights(URL_POOL, 1.1, 1));
  private readonly payloads: Payload[];
  private readonly payloadDraw = new Discrete(zipfWeights(PAYLOAD_POOL, 1.0, 0));
  private idPool = Buffer.alloc(0);
  private idOffset = 0;
  /** Fractional alerts carried from one minute to the next, so totals come out exact. */
  private carry = 0;

  constructor(seed: number) {
    this.rng = new Rng(seed);
    this.communitySensors = Array.from({ length: COMMUNITY_SENSORS }, (_, i) => makeSensor(i, true));
    this.privateSensors = Array.from({ length: PRIVATE_SENSORS }, (_, i) => makeSensor(i, false));
    this.payloads = Array.from({ length: PAYLOAD_POOL }, (_, i) => {
      const bytes = Buffer.from(`\x00\x00\x00\x85\xffSMBr payload #${i} ${'A'.repeat(40 + (i % 90))}`, 'latin1');
      return { md5: createHash('md5').update(bytes).digest('hex'), fuzzyHash: null, mimeType: 'application/octet-stream', size: bytes.length, content: () => bytes };
    });
  }

  /** The source address with the most alerts (Zipf rank 0): querySingleIP's realistic worst case. */
  hottestSource(): string {
    return this.source(0).ip;
  }

  /** A source deep in the Zipf tail: a handful of alerts at 10M, usually none at 100k. */
  rareSource(): string {
    return this.source(100_000).ip;
  }

  private source(rank: number): Source {
    let source = this.sourceCache[rank];
    if (source === undefined) {
      const key = rank + 1;
      const ip = unit(key * 3 + 1) < IPV6_SHARE ? publicIpv6(key) : publicIpv4(key);
      const rng = new Rng(key * 2246822519);
      const unknown = unit(key * 5 + 2) < UNKNOWN_GEO_SHARE;
      source = {
        ip,
        place: unknown ? UNKNOWN_PLACE : PLACES[sourceCountries.draw(rng)]![cities.draw(rng)]!,
        as: unknown ? '-' : `AS${4134 + (hash32(key) % 60000)} ${AS_ORGS[hash32(key + 1) % AS_ORGS.length]}`,
      };
      this.sourceCache[rank] = source;
    }
    return source;
  }

  private nextId(): string {
    if (this.idOffset + 16 > this.idPool.length) {
      this.idPool = randomBytes(16 * 8192);
      this.idOffset = 0;
    }
    const id = this.idPool.toString('hex', this.idOffset, this.idOffset + 16);
    this.idOffset += 16;
    return id;
  }

  /**
   * The alerts received in [from, to) at `perMinute` alerts per unit of minute weight, oldest
   * first, grouped into messages (one sensor, one recievedTime) as ewsposter sends them.
   * `from` and `to` must be whole seconds, so every message time falls inside the range.
   */
  *alerts(from: number, to: number, perMinute: number): Generator<AlertRecord> {
    for (let m = Math.floor(from / MINUTE_MS); m * MINUTE_MS < to; m++) {
      const start = Math.max(from, m * MINUTE_MS);
      const end = Math.min(to, (m + 1) * MINUTE_MS);
      const quota = perMinute * minuteWeight(m) * ((end - start) / MINUTE_MS) + this.carry;
      let count = Math.floor(quota);
      this.carry = quota - count;
      // Messages at whole seconds inside the slice, sorted so recievedTime never goes backwards.
      const messages: Array<[number, number]> = [];
      while (count > 0) {
        const size = Math.min(count, 1 + Math.floor(-Math.log(1 - this.rng.next()) * 6));
        messages.push([Math.floor((start + this.rng.next() * (end - start)) / 1000) * 1000, size]);
        count -= size;
      }
      messages.sort((a, b) => a[0] - b[0]);
      for (const [time, size] of messages) yield* this.message(time, size);
    }
  }

  private *message(received: number, size: number): Generator<AlertRecord> {
    const community = this.rng.next() < COMMUNITY_SHARE;
    const sensor = community
      ? this.communitySensors[this.communitySensorDraw.draw(this.rng)]!
      : this.privateSensors[this.privateSensorDraw.draw(this.rng)]!;
    const receivedText = formatUtc(received);
    for (let i = 0; i < size; i++) yield this.alert(sensor, community, received, receivedText);
  }

  private alert(sensor: Sensor, community: boolean, received: number, receivedText: string): AlertRecord {
    const rng = this.rng;
    let d = this.daemonDraw.draw(rng);
    for (let tries = 0; !sensor.daemons.has(d) && tries < 4; tries++) d = this.daemonDraw.draw(rng);
    if (!sensor.daemons.has(d)) d = 0;
    const daemon = DAEMONS[d]!;
    const source = this.source(this.sources.draw(rng));
    const port = daemon.random !== undefined && rng.next() < daemon.random
      ? 1 + rng.int(65535)
      : daemon.ports[this.portDraws[d]!.draw(rng)]![0];
    // Half the alerts are stamped the second they arrive, the rest a few seconds earlier.
    const createTime = rng.next() < 0.5 ? receivedText : formatUtc(received - (1 + rng.int(5)) * 1000);
    const doc: AlertDocument = {
      createTime,
      recievedTime: receivedText,
      clientDomain: community,
      peerIdent: sensor.peerIdents[d]!,
      peerType: daemon.peerType,
      sourceEntryIp: source.ip,
      sourceEntryPort: String(1024 + rng.int(64511)),
      targetEntryIp: sensor.ip,
      targetEntryPort: String(port),
      targetport: daemon.protocol,
      country: source.place.country,
      countryName: source.place.countryName,
      sourceEntryAS: source.as,
      location: source.place.location,
      targetCountry: sensor.place.country,
      targetCountryName: sensor.place.countryName,
      targetEntryAS: sensor.as,
      locationDestination: sensor.place.location,
      originalRequestString: '',
      username: '',
      password: '',
      login: '',
      clientVersion: '',
      sessionStart: '',
      sessionEnd: '',
      vulnid: '',
      additionalData: '{}',
      rawhttp: '-',
      externalIP: sensor.ip,
      internalIP: sensor.internalIp,
      hostname: sensor.hostname,
      client: '-',
    };
    let payload: Payload | null = null;
    const cves: string[] = [];
    this.fillRequest(doc, daemon, port, createTime);
    if (daemon.kind === 'port' && rng.next() < 0.05) {
      payload = this.payloads[this.payloadDraw.draw(rng)]!;
      doc.additionalData = JSON.stringify({ protocol: daemon.protocol, payload_md5: payload.md5 });
    }
    if ((daemon.name === 'dionaea' && port === 445 && rng.next() < 0.02) || (daemon.kind === 'url' && rng.next() < 0.02)) {
      doc.vulnid = daemon.name === 'dionaea' ? CVES[0]! : rng.pick(CVES);
      doc.originalRequestString = `(${doc.vulnid}) ${doc.originalRequestString}`;
      cves.push(doc.vulnid);
    }
    return { id: this.nextId(), document: doc, cves, payloads: payload ? [payload] : [] };
  }

  private fillRequest(doc: AlertDocument, daemon: Daemon, port: number, createTime: string): void {
    const rng = this.rng;
    switch (daemon.kind) {
      case 'port':
        doc.originalRequestString = `Attack on port ${port}/${daemon.protocol}`;
        doc.additionalData = `{"protocol":"${daemon.protocol}"}`;
        break;
      case 'url': {
        const url = this.urls[this.urlDraw.draw(rng)]!;
        doc.originalRequestString = url;
        doc.rawhttp = `GET ${url} HTTP/1.1\r\nHost: ${doc.targetEntryIp}\r\nUser-Agent: Mozilla/5.0 zgrab/0.x\r\nAccept: */*\r\n\r\n`;
        break;
      }
      case 'login':
        doc.username = rng.pick(USERNAMES);
        doc.password = rng.pick(PASSWORDS);
        if (daemon.name === 'cowrie') {
          doc.login = rng.next() < 0.1 ? 'Success' : 'Fail';
          doc.clientVersion = rng.pick(['SSH-2.0-Go', 'SSH-2.0-libssh2_1.9.0', 'SSH-2.0-OpenSSH_7.4', 'SSH-2.0-PUTTY']);
          doc.sessionStart = createTime;
          doc.sessionEnd = createTime;
          // A quarter of cowrie sessions get to a shell and type something.
          if (rng.next() < 0.25) doc.originalRequestString = rng.pick(SHELL_INPUTS);
        }
        break;
      case 'plain':
        break;
    }
  }
}

/**
 * A seeded corpus of EWS documents, ordinary and odd (entities, CDATA, comments, attributes in
 * any order and quoting, whitespace, CR LF, unicode and surrogate pairs, empty and nested
 * elements, repeated and misplaced elements, malformed XML, DTDs), each read whole and in
 * seeded pieces, and what the reader and validateAlert make of it.
 *
 * The reader and validateAlert were hand-optimised for ingest speed (bench:opensearch); the
 * outcomes of the implementation before that are kept in test/fixtures/ews-reader-golden.json
 * and ews-reader-golden.test.ts demands the same, byte for byte. After a deliberate change of
 * behaviour, write the file again: `node dist/test/ews-reader-corpus.js --write`.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PayloadSpool } from '../src/enrich/payload-spool';
import { SampleDigest } from '../src/enrich/payload';
import { validateAlert } from '../src/ingest/alert-validation';
import { EwsMessageError, EwsMessageReader, type RawAlert } from '../src/ingest/ews-message';
import { seededRandom } from './helpers';

export const GOLDEN_FILE = path.resolve(__dirname, '../../test/fixtures/ews-reader-golden.json');
const FIXTURES = path.resolve(__dirname, '../../test/fixtures/ews');

export interface CorpusCase {
  readonly name: string;
  readonly doc: string;
  /** Where the document is cut into pieces, per way of reading it ([] is whole). */
  readonly cuts: number[][];
  /** A largepayload sink is given (as the ingest service does). */
  readonly samples: boolean;
  readonly trusted: boolean;
  readonly maxAlerts: number;
  readonly maxHeldBytes: number;
}


const WORDS = ['root', 'admin', 'SSH-2.0-Go', 'GET / HTTP/1.1', '%0Aenable%3B', 'a b', 'x', '0', 'Ünïcödé', '中文', '😀', 'a😀b', '\u{10FFFF}', 'tab\there', ''];
const SPACE = [' ', '  ', '\n', '\r\n', '\r', '\t', '\n    ', ' \n\t '];
const ENTITIES = ['&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '&#65;', '&#x42;', '&#x1F600;', '&#128512;', '&#xD7FF;', '&#10;', '&#13;', '&#x20;'];
const TIMES = ['2026-01-01 10:20:30', '2026-01-01T10:20:30', '2024-02-29 23:59:59', '2023-02-29 00:00:00', '2017-02-30 10:00:00',
  '1970-01-01 00:00:00', '1969-12-31 23:59:59', '9999-12-31 23:30:00', '0099-01-01 00:00:00', '2026-13-01 00:00:00',
  '2026-01-32 00:00:00', '2026-01-01 24:00:00', '2026-01-01 10:60:00', '2026-01-01 10:00:60', '2026-1-1 10:00:00',
  '2026-01-01  10:20:30', '2026-01-01 10:20:30Z', '2026-01-01 10:20', '２０２６-01-01 10:20:30', '2026-06-30 23:00:00',
  '2026-12-31 22:10:00', '2026-03-01 00:10:00', '2024-03-01 01:00:00', '2000-02-29 12:00:00', '1900-02-29 12:00:00', ''];
const ZONES = ['+0000', '+0100', '-0500', '+0530', '-05:30', '+1400', '-1200', '+2359', '+2400', '+0060', '0100', '+01', 'Z', ' +0200 ',
  '+01:00', '-0000', '+０１00', '', '\t-0300\n', '+12:345'];
const ADDRESSES = ['1.2.3.4', '203.0.113.9', '255.255.255.255', '0.0.0.0', '01.2.3.4', '1.2.3.04', '256.1.1.1', '1.2.3', '1.2.3.4.5',
  ' 8.8.8.8 ', '\n9.9.9.9\t', '123.123.123.123', '2001:db8::1', '2001:DB8:0:0:0:0:0:1', '::', '::1', '::ffff:1.2.3.4',
  '::FFFF:0102:0304', '::ffff:0:1.2.3.4', '64:ff9b::1.2.3.4', 'fe80::1%eth0', '2a01:4f8:0:0:1:0:0:1', '2a01:4f8::1:0:0:1',
  '1:0:0:1:0:0:0:1', '1:2:3:4:5:6:7:8', '1::2:3:4:5:6:7', '::1.2.3.4', 'a:b:c:d:e:f:1.2.3.4', '2001:db8::g', 'localhost',
  '', '1.2.3.4 5', '١.٢.٣.٤', '1.2.3.-4', '+1.2.3.4', '1e2.1.1.1', '0x1.1.1.1', '1.2.3.4\u00a0'];
const ANALYZERS = ['cowrie-tpot-1', 'dionaea-x', 'honeytrap-y', 'glastopf-z', 'suricata', 'heralding', 'ciscoasa', 'conpot', 'x'.repeat(257), ''];
const DESCRIPTIONS = ['SSH Honeypot Cowrie', 'Telnet Honeypot Cowrie', 'NetworkHoneypot Honeytrap v1.1', 'Network Honeyport Dionaea v0.1.0',
  'WebHoneypot : Glastopf v3.1', 'Suricata', 'Heralding', 'Anything'];
const MEANINGS = ['username', 'password', 'input', 'hostname', 'externalIP', 'payload', 'sqliteid', 'login', 'Username', ''];
const REQUEST_TYPES = ['description', 'url', 'raw', 'binary', 'request', 'largepayload', 'Description', ''];

class Writer {
  constructor(private readonly r: () => number) {}

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.r() * list.length)]!;
  }

  chance(p: number): boolean {
    return this.r() < p;
  }

  /** Mostly `real`; sometimes a near miss (one character off, the case of one letter, longer, shorter). */
  name(real: string): string {
    if (!this.chance(0.05)) return real;
    const at = Math.floor(this.r() * real.length);
    const ch = real[at]!;
    switch (Math.floor(this.r() * 4)) {
      case 0: return real.slice(0, at) + (ch === 'x' ? 'y' : 'x') + real.slice(at + 1);
      case 1: return real.slice(0, at) + (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase()) + real.slice(at + 1);
      case 2: return `${real}s`;
      default: return real.slice(0, -1);
    }
  }

  space(): string {
    return this.chance(0.5) ? this.pick(SPACE) : '';
  }

  /** Character data as XML writes it: plain, escaped, referenced, in CDATA, split by comments. */
  text(value: string): string {
    if (this.chance(0.55)) return value.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    let out = '';
    for (const ch of value) {
      const roll = this.r();
      if (ch === '&') out += roll < 0.5 ? '&amp;' : '<![CDATA[&]]>';
      else if (ch === '<') out += roll < 0.5 ? '&lt;' : '<![CDATA[<]]>';
      else if (roll < 0.06) out += `&#${ch.codePointAt(0)};`;
      else if (roll < 0.1) out += `&#x${ch.codePointAt(0)!.toString(16)};`;
      else if (roll < 0.13) out += `<![CDATA[${ch}]]>`;
      else if (roll < 0.15) out += `<!--c-->${ch}`;
      else if (roll < 0.16) out += `<?pi x?>${ch}`;
      else out += ch;
    }
    return out;
  }

  /** Text with extra oddities: spaces around it, entities, nested elements. */
  oddText(value: string): string {
    let out = this.space() + this.text(value) + this.space();
    if (this.chance(0.1)) out += this.pick(ENTITIES);
    if (this.chance(0.05)) out = `${out}<b>in${this.pick(WORDS)}</b>${this.text(this.pick(WORDS))}`;
    if (this.chance(0.04)) out = `<i/>${out}`;
    if (this.chance(0.04)) out += '<![CDATA[]]>';
    return out;
  }

  attribute(name: string, value: string): string {
    const quote = this.chance(0.8) ? '"' : "'";
    let written = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(quote === '"' ? /"/g : /'/g, quote === '"' ? '&quot;' : '&apos;');
    if (this.chance(0.1)) written = `${this.pick([' ', '\t', '\n', '&#32;', '&#9;'])}${written}${this.pick(['', ' ', '\n'])}`;
    if (this.chance(0.05)) written += this.pick(ENTITIES);
    return `${name}${this.chance(0.1) ? ' = ' : '='}${quote}${written}${quote}`;
  }

  /** An element with attributes in a random order (some left out, some extra). */
  element(name: string, attributes: Array<[string, string]>, content: string | null): string {
    const kept = attributes.filter(() => this.chance(0.93));
    if (this.chance(0.3)) kept.push(['category', this.pick(['ipv4', 'ipv6', 'string'])]);
    if (this.chance(0.1)) kept.push(['x-other', this.pick(WORDS)]);
    for (let i = kept.length - 1; i > 0; i--) {
      const j = Math.floor(this.r() * (i + 1));
      [kept[i], kept[j]] = [kept[j]!, kept[i]!];
    }
    const attrs = kept.map(([n, v]) => ` ${this.attribute(n, v)}`).join('') + (this.chance(0.1) ? this.pick([' ', '\n', '\t']) : '');
    if (content === null || (content === '' && this.chance(0.4))) return `<${name}${attrs}/>`;
    return `<${name}${attrs}>${content}</${name}${this.chance(0.05) ? ' ' : ''}>`;
  }

  base64(): string {
    const bytes = Buffer.alloc(Math.floor(this.r() * 200), 0);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(this.r() * 256);
    let text = bytes.toString('base64');
    if (this.chance(0.4)) text = text.replace(/(.{76})/g, '$1\n');
    if (this.chance(0.1)) text = text.replace(/(.{40})/g, '$1\r\n  ');
    if (this.chance(0.1)) text = `${text.slice(0, 10)}&#65;${text.slice(11)}`;
    if (this.chance(0.05)) text = `${text.slice(0, 20)}<!-- c -->${text.slice(20)}`;
    return text;
  }

  alertChild(): string {
    const roll = this.r();
    if (roll < 0.1) return this.element(this.name('Analyzer'), [['id', this.pick(ANALYZERS)], ['name', 'x']], this.chance(0.8) ? null : this.oddText('in'));
    if (roll < 0.2) return this.element(this.name('CreateTime'), [['tz', this.pick(ZONES)]], this.oddText(this.pick(TIMES)));
    if (roll < 0.32) {
      const port = this.pick(['22', '23', ' 445 ', '', 'undefined', '65536', '8080']);
      return this.element(this.name(this.chance(0.5) ? 'Source' : 'Target'), [['port', port], ['protocol', this.pick(['tcp', 'udp', ' TCP ', ''])]], this.oddText(this.pick(ADDRESSES)));
    }
    if (roll < 0.55) {
      const type = this.pick(REQUEST_TYPES);
      const value = type === 'largepayload' || type === 'binary' || type === 'raw' ? this.base64() : type === 'description' ? this.pick(DESCRIPTIONS) : this.pick(WORDS);
      return this.element(this.name('Request'), [['type', type]], type === 'largepayload' ? value : this.oddText(value));
    }
    if (roll < 0.8) return this.element(this.name('AdditionalData'), [['meaning', this.pick(MEANINGS)], ['type', 'string']], this.oddText(this.pick(WORDS)));
    if (roll < 0.84) return this.element(this.pick(['Unknown', 'Node', 'alert', 'Alert']), [['id', 'x']], this.oddText(this.pick(WORDS)));
    if (roll < 0.86) return this.authentication();
    if (roll < 0.9) return this.text(this.pick(WORDS));
    return this.pick(SPACE);
  }

  /** A complete alert most of the time, so validation is reached; odd children mixed in. */
  alert(): string {
    const children: string[] = [];
    if (this.chance(0.85)) {
      children.push(`<Analyzer id="${this.pick(ANALYZERS.slice(0, 8))}"/>`);
      children.push(this.element('CreateTime', [['tz', this.pick(ZONES)]], this.chance(0.8) ? this.pick(TIMES) : this.oddText(this.pick(TIMES))));
      children.push(this.element('Source', [['port', '4242'], ['protocol', 'tcp']], this.chance(0.8) ? this.pick(ADDRESSES) : this.oddText(this.pick(ADDRESSES))));
      children.push(this.element('Target', [['port', '22'], ['protocol', 'tcp']], this.pick(ADDRESSES)));
      children.push(`<Request type="description">${this.text(this.pick(DESCRIPTIONS))}</Request>`);
    }
    const extra = Math.floor(this.r() * 6);
    for (let i = 0; i < extra; i++) children.splice(Math.floor(this.r() * (children.length + 1)), 0, this.alertChild());
    return this.element(this.name('Alert'), [], children.map((c) => this.pick(['', '\n    ', ' ']) + c).join('') + this.space());
  }

  authentication(): string {
    const parts = [
      this.element(this.name('username'), [], this.oddText(this.pick(['community-01-user', 'user', ' spaced ', 'ü😀', '']))),
      this.element(this.name('token'), [], this.oddText(this.pick(['foth{a5maiCee8fineu7', 'secret&x', '']))),
    ];
    if (this.chance(0.1)) parts.reverse();
    if (this.chance(0.05)) parts.pop();
    if (this.chance(0.05)) parts.push(this.element('username', [], 'second'));
    const name = this.name('Authentication');
    return `<${name}>${parts.map((p) => this.space() + p).join('')}${this.space()}</${name}>`;
  }

  document(): string {
    let prolog = '';
    if (this.chance(0.3)) prolog += `<?xml version="1.0" encoding="${this.pick(['UTF-8', 'utf-8'])}"?>`;
    if (this.chance(0.2)) prolog += this.pick(SPACE);
    if (this.chance(0.1)) prolog += '<!-- sent by ewsposter -->';
    if (this.chance(0.1)) prolog += this.pick(SPACE);
    const children: string[] = [];
    if (this.chance(0.9)) children.push(this.authentication());
    const alerts = Math.floor(this.r() * 6);
    for (let i = 0; i < alerts; i++) children.push(this.alert());
    if (this.chance(0.1)) children.splice(Math.floor(this.r() * children.length), 0, this.authentication());
    if (this.chance(0.1)) children.push(this.element('Unknown', [], this.oddText('x')));
    if (this.chance(0.05)) children.push(this.text('stray text'));
    const root = this.chance(0.97) ? this.name('EWS-SimpleMessage') : this.pick(['EWS-Simplemessage', 'Alert', 'Authentication']);
    let doc = `${prolog}${this.element(root, [['version', '3.0']], children.map((c) => this.pick(['\n  ', '', ' ']) + c).join('') + '\n')}`;
    if (this.chance(0.3)) doc += this.pick(SPACE);
    return this.chance(0.12) ? this.damage(doc) : doc;
  }

  /** One well-formedness or policy violation. */
  damage(doc: string): string {
    const at = Math.floor(this.r() * doc.length);
    switch (Math.floor(this.r() * 12)) {
      case 0: return doc.replace(/<\/[A-Za-z]+>/, '');
      case 1: return `<!DOCTYPE x [<!ENTITY e "boom">]>${doc}`;
      case 2: return `${doc.slice(0, at)}&bogus;${doc.slice(at)}`;
      case 3: return doc.replace('</Alert>', ']]></Alert>');
      case 4: return `${doc.slice(0, at)}\u0001${doc.slice(at)}`;
      case 5: return `${doc}<EWS-SimpleMessage/>`;
      case 6: return `${doc}trailing text`;
      case 7: return doc.slice(0, at);
      case 8: return `${doc.slice(0, at)}<${doc.slice(at)}`;
      case 9: return `${doc.slice(0, at)}\uD800${doc.slice(at)}`;
      case 10: return doc.replace('"', '');
      default: return `<!doctype EWS-SimpleMessage>${doc}`;
    }
  }

  cuts(length: number): number[] {
    const cuts = new Set<number>();
    const every = this.chance(0.3) ? 1 + Math.floor(this.r() * 7) : 0;
    if (every > 0) for (let at = every; at < length; at += every) cuts.add(at);
    else for (let i = Math.floor(this.r() * 12); i > 0; i--) cuts.add(1 + Math.floor(this.r() * Math.max(1, length - 1)));
    return [...cuts].sort((a, b) => a - b);
  }
}

/** The corpus: the repository's fixtures and a few hundred generated documents. */
export function corpus(count = 400): CorpusCase[] {
  const r = seededRandom(0x5eed);
  const w = new Writer(r);
  const cases: CorpusCase[] = [];
  const add = (name: string, doc: string): void => {
    cases.push({
      name, doc, cuts: [[], w.cuts(doc.length), w.cuts(doc.length)],
      samples: w.chance(0.7), trusted: w.chance(0.8), maxAlerts: w.chance(0.1) ? 2 : 100, maxHeldBytes: w.chance(0.05) ? 600 : 1 << 30,
    });
  };
  for (const file of readdirSync(FIXTURES).sort()) add(`fixture ${file}`, readFileSync(path.join(FIXTURES, file), 'utf8'));
  for (let i = 0; i < count; i++) add(`generated ${i}`, w.document());
  return cases;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Long texts (payloads) are kept as their length and sha256, so the golden file stays small. */
function kept(text: string): string {
  return text.length <= 120 ? text : `${text.length} chars, sha256 ${createHash('sha256').update(text).digest('hex')}`;
}

function alertOutcome(alert: RawAlert, samples: Map<object, string>): Json {
  const validation = validateAlert(alert);
  const endpoint = (e: RawAlert['source']): Json => (e ? { address: e.address, port: e.port, protocol: e.protocol } : null);
  return {
    analyzerId: kept(alert.analyzerId), createTime: alert.createTime ?? null, timezone: alert.timezone ?? null,
    source: endpoint(alert.source), target: endpoint(alert.target),
    requests: [...alert.requests].map(([k, v]) => [k, kept(v)]), additional: [...alert.additional].map(([k, v]) => [k, kept(v)]),
    sample: alert.sample ? { text: kept(samples.get(alert.sample) ?? ''), md5: alert.sample.md5, size: alert.sample.size, mimeType: alert.sample.mimeType } : null,
    validation: validation.ok
      ? { peerType: validation.peerType, createTime: validation.alert.createTime, source: validation.alert.source.address.text, sourceVersion: validation.alert.source.address.version, target: validation.alert.target.address.text, targetVersion: validation.alert.target.address.version }
      : validation.reason,
  };
}

/** What reading `doc` in the pieces `cuts` gives: the message, or the refusal. */
export function outcome(c: CorpusCase, cuts: readonly number[]): Json {
  const spool = new PayloadSpool();
  const samples = new Map<object, string>();
  try {
    const openSample = c.samples
      ? () => {
        const digest = new SampleDigest(spool, 1 << 20);
        let text = '';
        return {
          write: (piece: string) => ((text += piece), digest.write(piece)),
          writePure: (piece: string) => {
            const pure = digest.writePure(piece);
            if (pure) text += piece;
            return pure;
          },
          end: () => {
            const sighting = digest.end();
            samples.set(sighting, text);
            return sighting;
          },
        };
      }
      : undefined;
    const reader = new EwsMessageReader({ maxAlerts: c.maxAlerts, maxHeldBytes: c.maxHeldBytes, maxSampleChars: 1 << 20 }, openSample);
    const seen: Json[] = [];
    let at = 0;
    for (const cut of [...cuts, c.doc.length]) {
      reader.write(c.doc.slice(at, cut));
      at = cut;
      if (reader.credentialsComplete && seen.length === 0) {
        const sent = reader.sentCredentials;
        seen.push(sent ? [sent.username, sent.token] : null);
        if (c.trusted) reader.trust();
      }
    }
    const message = reader.close();
    return {
      credentials: message.credentials ? [message.credentials.username, message.credentials.token] : null,
      completeWith: seen[0] ?? 'never',
      alerts: message.alerts.map((a) => alertOutcome(a, samples)),
    };
  } catch (error) {
    if (error instanceof EwsMessageError) return { refused: error.statusCode, reason: error.message };
    throw error;
  } finally {
    spool.close();
  }
}

export const SAME = 'same as read whole';

export interface GoldenEntry {
  readonly name: string;
  /** Per way of reading (as in CorpusCase.cuts); SAME where it is that of reading it whole. */
  readonly outcomes: Json[];
}

// `node --test` runs every file of test/ as a test: only `--write` writes.
if (require.main === module && process.argv[2] === '--write') {
  const golden: GoldenEntry[] = corpus().map((c) => {
    const outcomes = c.cuts.map((cuts) => outcome(c, cuts));
    const whole = JSON.stringify(outcomes[0]);
    return { name: c.name, outcomes: outcomes.map((o, i) => (i > 0 && JSON.stringify(o) === whole ? SAME : o)) };
  });
  writeFileSync(GOLDEN_FILE, `[\n${golden.map((entry) => JSON.stringify(entry)).join(',\n')}\n]\n`);
  const refused = golden.filter((g) => (g.outcomes[0] as { refused?: number }).refused !== undefined).length;
  const alerts = golden.reduce((n, g) => n + (((g.outcomes[0] as { alerts?: unknown[] }).alerts)?.length ?? 0), 0);
  console.log(`${golden.length} documents (${refused} refused, ${alerts} alerts) written to ${GOLDEN_FILE}`);
}

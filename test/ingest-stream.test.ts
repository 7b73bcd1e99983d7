/**
 * How the bytes of a posted message become alerts (issue 10, items 2, 7, 15): text encodings by
 * the XML declaration, authentication as soon as `</Authentication>` is read, and messages far
 * larger than BODY_LIMIT carrying `largepayload` samples, read as a stream with bounded memory.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { sha512Hex } from '../src/auth/tokens';
import { alertXml, COMMUNITY, ewsMessage, OK_REPLY, postMessage, startApp, type RunningApp } from './helpers';

const INGEST = '/ews-0.1/alert/postSimpleMessage';

interface Reply {
  readonly status: number;
  readonly text: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/**
 * POSTs a body pulled from `chunks` as the socket takes it (backpressure), so a server that stops
 * reading stops the pulling too. Resolves with the reply and how many bytes were pulled; write
 * errors after the reply (the server closed a connection it stopped reading) are expected.
 */
function streamPost(url: string, path: string, chunks: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<Reply & { sent: number }> {
  let sent = 0;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      sent += chunk.length;
      yield chunk;
    }
  }
  return new Promise((resolve, reject) => {
    const request = httpRequest(url + path, { method: 'POST', headers: { 'content-type': 'text/xml' } }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8'), headers: response.headers, sent }));
      response.on('error', reject);
    });
    let answered = false;
    request.on('response', () => { answered = true; });
    request.on('error', (error) => { if (!answered) reject(error); });
    const body = Readable.from(counted());
    body.on('error', () => undefined);
    body.pipe(request);
  });
}

/** One whole body, as bytes. */
function post(url: string, body: Buffer): Promise<Reply> {
  return streamPost(url, INGEST, [body]);
}

interface Harness {
  readonly running: RunningApp;
  readonly db: Database.Database;
  rows(analyzer: string): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

async function harness(overrides: Parameters<typeof startApp>[0] = {}): Promise<Harness> {
  const running = await startApp(overrides);
  const db = new Database(join(running.dir, 'peba.db'), { readonly: true });
  const rows = db.prepare('SELECT username, "originalRequestString", "additionalData" FROM alerts WHERE "peerIdent" = ? ORDER BY "createTime"');
  return {
    running,
    db,
    rows: (analyzer) => rows.all(analyzer) as Array<Record<string, unknown>>,
    async close() {
      db.close();
      await running.close();
    },
  };
}

/** A good message is still stored afterwards. */
async function assertStillServing(h: Harness, tag: string): Promise<void> {
  const analyzer = `cowrie-after-${tag}`;
  const reply = await postMessage(h.running.url, ewsMessage([alertXml({ analyzer })]));
  assert.equal(reply.text, OK_REPLY);
  assert.equal(h.rows(analyzer).length, 1);
}

function failed(reply: Reply, status: number, text: RegExp): void {
  assert.equal(reply.status, status, reply.text);
  const match = /^<Result><StatusCode>Failed<\/StatusCode><Text>([^<]*)<\/Text><\/Result>$/.exec(reply.text);
  assert.ok(match, reply.text);
  assert.match(match[1]!, text);
}

let serial = 0;
/** A message from `analyzer` whose one alert has `username` (already escaped for XML). */
function withUser(analyzer: string, username: string, declaration = ''): string {
  return declaration + ewsMessage([alertXml({ analyzer, createTime: `2026-11-27 10:00:${String(++serial % 60).padStart(2, '0')}`, additional: { username } })]);
}

describe('text encodings: decoded by the XML declaration', () => {
  let h: Harness;
  before(async () => { h = await harness(); });
  after(async () => { await h?.close(); });

  const cases: Array<[string, Buffer, string]> = [
    ['ISO-8859-1', Buffer.from(withUser('cowrie-latin1', 'jürgen', '<?xml version="1.0" encoding="ISO-8859-1"?>\n'), 'latin1'), 'jürgen'],
    ['windows-1252 (€ is 0x80 there, Ÿ 0x9F)', Buffer.from(withUser('cowrie-cp1252', 'jürgen\x80\x9f', "<?xml version='1.0' encoding='windows-1252'?>\n"), 'latin1'), 'jürgen€Ÿ'],
    ['UTF-16LE with a byte order mark', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(withUser('cowrie-utf16le', 'jürgen', '<?xml version="1.0" encoding="UTF-16"?>\n'), 'utf16le')]), 'jürgen'],
    ['UTF-16BE with a byte order mark, no declaration', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(withUser('cowrie-utf16be', 'jürgen😀'), 'utf16le').swap16()]), 'jürgen😀'],
    ['UTF-8 declared, with a byte order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(withUser('cowrie-utf8bom', 'jürgen', '<?xml version="1.0" encoding="utf-8"?>'))]), 'jürgen'],
    ['no declaration: UTF-8', Buffer.from(withUser('cowrie-utf8', 'jürgen')), 'jürgen'],
    ['character references (what ewsposter sends)', Buffer.from(withUser('cowrie-charref', 'j&#252;rgen&#x20AC;')), 'jürgen€'],
  ];
  for (const [name, body, expected] of cases) {
    it(`${name}: stored as sent`, async () => {
      const analyzer = /Analyzer id="([^"]+)"/.exec(name.startsWith('UTF-16') ? (name.includes('BE') ? Buffer.from(body.subarray(2)).swap16().toString('utf16le') : body.subarray(2).toString('utf16le')) : body.toString('latin1'))![1]!;
      const reply = await post(h.running.url, body);
      assert.equal(reply.text, OK_REPLY);
      assert.deepEqual(h.rows(analyzer).map((row) => row['username']), [expected]);
    });
  }

  it('a UTF-8 character split between two chunks of the body', async () => {
    const body = Buffer.from(withUser('cowrie-split', 'jürgen'));
    const at = body.indexOf(Buffer.from('ü')) + 1;
    const reply = await streamPost(h.running.url, INGEST, [body.subarray(0, at), body.subarray(at)]);
    assert.equal(reply.text, OK_REPLY);
    assert.deepEqual(h.rows('cowrie-split').map((row) => row['username']), ['jürgen']);
  });

  const refused: Array<[string, Buffer, RegExp]> = [
    ['ISO-8859-1 bytes without a declaration (invalid UTF-8)', Buffer.from(withUser('cowrie-bad-utf8', 'jürgen'), 'latin1'), /not valid UTF-8, the encoding in force/],
    ['a byte windows-1252 leaves undefined', Buffer.from(withUser('cowrie-bad-cp1252', 'j\x81rgen', '<?xml version="1.0" encoding="windows-1252"?>'), 'latin1'), /not valid windows-1252/],
    ['a lone surrogate in UTF-16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(withUser('cowrie-bad-utf16', 'j\ud800rgen'), 'utf16le')]), /not valid UTF-16/],
    ['UTF-16 declared without a byte order mark', Buffer.from(withUser('cowrie-bad-nobom', 'jurgen', '<?xml version="1.0" encoding="UTF-16"?>')), /needs a byte order mark/],
    ['an encoding we do not read', Buffer.from(withUser('cowrie-bad-ebcdic', 'jurgen', '<?xml version="1.0" encoding="EBCDIC-US"?>')), /unsupported encoding "EBCDIC-US"/],
    ['a UTF-8 byte order mark declaring ISO-8859-1', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(withUser('cowrie-bad-bom', 'jurgen', '<?xml version="1.0" encoding="ISO-8859-1"?>'))]), /byte order mark but declares/],
  ];
  for (const [name, body, reason] of refused) {
    it(`${name}: 400, nothing of the message stored`, async () => {
      const before = await h.running.app.store.countAlerts();
      failed(await post(h.running.url, body), 400, reason);
      assert.equal(await h.running.app.store.countAlerts(), before);
      await assertStillServing(h, `enc${++serial}`);
    });
  }

  it('invalid UTF-8 far into a long message: nothing of it stored', async () => {
    const alerts = Array.from({ length: 200 }, (_, i) => alertXml({ analyzer: 'cowrie-late-bad', createTime: `2026-11-27 11:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}` }));
    const body = Buffer.from(ewsMessage([...alerts, alertXml({ analyzer: 'cowrie-late-bad', additional: { username: 'j\xfcrgen' } })]), 'latin1');
    failed(await post(h.running.url, body), 400, /not valid UTF-8/);
    assert.equal(h.rows('cowrie-late-bad').length, 0);
  });
});

/** The body of a message from `credentials`, followed by `fillerBytes` of alerts (pulled lazily). */
function* messageWithFiller(credentials: { username: string; token: string }, fillerBytes: number): Generator<Buffer> {
  yield Buffer.from(ewsMessage([], credentials).replace('</EWS-SimpleMessage>', ''));
  const alert = Buffer.from(`${alertXml({ analyzer: 'cowrie-filler', additional: { input: 'x'.repeat(4000) } })}\n`);
  const block = Buffer.concat(Array.from({ length: 16 }, () => alert));
  for (let sent = 0; sent < fillerBytes; sent += block.length) yield block;
  yield Buffer.from('</EWS-SimpleMessage>');
}

describe('work before authentication', () => {
  let h: Harness;
  before(async () => {
    // A body limit far above the message, so only early authentication can stop the reading.
    h = await harness({ BODY_LIMIT: String(1024 ** 3), MAX_ALERTS_PER_MESSAGE: '1000000' });
  });
  after(async () => { await h?.close(); });

  it('wrong credentials on a 256 MB body: 403 after reading a prefix, nothing stored', async () => {
    const total = 256 * 1024 * 1024;
    const before = await h.running.app.store.countAlerts();
    const reply = await streamPost(h.running.url, INGEST, messageWithFiller({ username: COMMUNITY.username, token: 'wrong' }, total));
    failed(reply, 403, /^Authentication failed$/);
    assert.equal(reply.headers['connection'], 'close', 'the unread rest ends the connection');
    // What the socket buffers hold is all the client got to send: the server stopped reading.
    assert.ok(reply.sent < total / 8, `the server read ${reply.sent} of ${total} bytes`);
    assert.equal(await h.running.app.store.countAlerts(), before);
    assert.equal(h.rows('cowrie-filler').length, 0);
    await assertStillServing(h, 'wrongcreds');
  });

  it('an unknown user on a large body: the same', async () => {
    const total = 64 * 1024 * 1024;
    const reply = await streamPost(h.running.url, INGEST, messageWithFiller({ username: 'nobody', token: 'x' }, total));
    failed(reply, 403, /^Authentication failed$/);
    assert.ok(reply.sent < total / 2, `the server read ${reply.sent} of ${total} bytes`);
    await assertStillServing(h, 'unknown');
  });

  it('the right credentials on the same kind of body: every alert stored', async () => {
    const before = await h.running.app.store.countAlerts();
    const reply = await streamPost(h.running.url, INGEST, messageWithFiller(COMMUNITY, 4 * 1024 * 1024));
    assert.equal(reply.text, OK_REPLY);
    // The filler repeats one alert: idempotent ids store it once.
    assert.equal(await h.running.app.store.countAlerts(), before + 1);
  });

  it('private endpoints take at most 64 KB of body: 413 above, still answering', async () => {
    await h.running.app.store.putUser({ peerName: 'asker', tokenHash: sha512Hex('asker-token'), community: false, getOnly: true, email: '' });
    const credentials = ewsMessage([], { username: 'asker', token: 'asker-token' });
    const padded = credentials.replace('</EWS-SimpleMessage>', `<!--${'p'.repeat(70 * 1024)}--></EWS-SimpleMessage>`);
    for (const path of ['/alert/retrieveIPs', '/ews-0.1/alert/retrieveAlertsCyber', '/alert/querySingleIP?ip=1.2.3.4', '/alert/retrieveIPs15m']) {
      const big = await streamPost(h.running.url, path, [Buffer.from(padded)]);
      assert.equal(big.status, 413, big.text);
      assert.match(big.text, /larger than 65536 bytes/);
      const small = await streamPost(h.running.url, path, [Buffer.from(credentials)]);
      assert.equal(small.status, 200, small.text);
    }
  });
});

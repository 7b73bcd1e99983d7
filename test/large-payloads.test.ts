/**
 * Messages with `Request type="largepayload"` samples (ewsposter's send_malware, CONTRACT section
 * 2, "Over-size"): far larger than BODY_LIMIT, accepted, read as a stream with bounded memory;
 * each sample hashed as it arrives and kept in the payload store up to PAYLOAD_STORE_MAX_BYTES.
 * The message is generated while it is sent, never held whole by the test either.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { alertXml, COMMUNITY, ewsMessage, OK_REPLY, startApp, type RunningApp } from './helpers';
import { dionaeaMessage, type Sample } from './sample-message';

const INGEST = '/ews-0.1/alert/postSimpleMessage';
const MB = 1024 * 1024;

function streamPost(url: string, chunks: Iterable<Buffer>, onChunk: () => void = () => undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url + INGEST, { method: 'POST', headers: { 'content-type': 'text/xml' } }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
    });
    let answered = false;
    request.on('response', () => { answered = true; });
    request.on('error', (error) => { if (!answered) reject(error); });
    const body = Readable.from((function* () {
      for (const chunk of chunks) {
        onChunk();
        yield chunk;
      }
    })());
    body.on('error', () => undefined);
    body.pipe(request);
  });
}

/** Peak resident memory of this process so far, bytes. */
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

describe('large payload samples', () => {
  let running: RunningApp;
  let db: Database.Database;
  before(async () => {
    // The body limit of the rest of the message stays small; samples up to 8 MB are kept.
    running = await startApp({ BODY_LIMIT: String(1 * MB), PAYLOAD_STORE_MAX_BYTES: String(8 * MB) });
    db = new Database(join(running.dir, 'peba.db'), { readonly: true });
  });
  after(async () => {
    db?.close();
    await running?.close();
  });

  // First in this file, so the peak memory before it is this process's start-up.
  it('20 alerts x 10 MB of base64 (200 times BODY_LIMIT): all stored, memory bounded', async (t) => {
    global.gc?.();
    const peakBefore = peakRss();
    const samples: Sample[] = [];
    const reply = await streamPost(running.url, dionaeaMessage(20, 10 * MB, samples));
    assert.equal(reply.text, OK_REPLY);
    const grown = peakRss() - peakBefore;
    t.diagnostic(`peak resident memory grew ${(grown / MB).toFixed(1)} MB for a ${20 * 10} MB message`);
    // The bound includes SQLite's page cache (64 MB, filled by the 150 MB of samples kept);
    // holding the message (208 MB of text) would pass it by far.
    const BOUND = 150 * MB;
    assert.ok(grown < BOUND, `peak resident memory grew ${(grown / MB).toFixed(1)} MB (bound ${BOUND / MB} MB)`);

    const rows = db.prepare(`SELECT json_extract("additionalData", '$.largepayload_md5') AS md5 FROM alerts WHERE "peerIdent" = 'dionaea-large' ORDER BY "createTime"`).pluck().all();
    assert.deepEqual(rows, samples.map((s) => s.md5), 'every alert stored, each naming its sample');
    for (const sample of samples) {
      const row = db.prepare('SELECT size, bytes, count, mime_type AS mimeType FROM payloads WHERE md5 = ?').get(sample.md5) as { size: number; bytes: Buffer; count: number; mimeType: string };
      assert.equal(row.size, sample.size);
      assert.equal(createHash('md5').update(row.bytes).digest('hex'), sample.md5, 'the kept bytes are the sample');
      assert.equal(row.count, 1);
      assert.equal(row.mimeType, 'application/octet-stream');
    }
  });

  it('a resubmission changes nothing; samples over PAYLOAD_STORE_MAX_BYTES keep md5 and size only', async () => {
    const samples: Sample[] = [];
    const before = await running.app.store.countAlerts();
    // 12 MB of base64 is 9 MB of bytes: over the 8 MB cap.
    const reply = await streamPost(running.url, dionaeaMessage(2, 12 * MB, samples));
    assert.equal(reply.text, OK_REPLY);
    assert.equal(await running.app.store.countAlerts(), before + 2);
    for (const sample of samples) {
      const row = db.prepare('SELECT size, length(bytes) AS kept FROM payloads WHERE md5 = ?').get(sample.md5);
      assert.deepEqual(row, { size: sample.size, kept: 0 });
    }
    const again = await streamPost(running.url, dionaeaMessage(2, 12 * MB, []));
    assert.equal(again.text, OK_REPLY);
    assert.equal(await running.app.store.countAlerts(), before + 2, 'the same alerts again: nothing new');
  });

  it('samples are not exempt before authentication: Authentication after them counts them against BODY_LIMIT (413)', async () => {
    const before = await running.app.store.countAlerts();
    const reply = await streamPost(running.url, dionaeaMessage(3, 1 * MB, [], COMMUNITY, false));
    assert.equal(reply.status, 413, reply.text);
    assert.match(reply.text, /request body larger than 1048576 bytes/);
    assert.equal(await running.app.store.countAlerts(), before);
  });

  it('wrong credentials on a message of samples: 403 long before its end', async () => {
    const before = await running.app.store.countAlerts();
    let pulled = 0;
    const reply = await streamPost(running.url, dionaeaMessage(20, 10 * MB, [], { username: COMMUNITY.username, token: 'nope' }), () => pulled++);
    assert.equal(reply.status, 403, reply.text);
    assert.ok(pulled < 1000, `pulled ${pulled} pieces of about 4000`);
    assert.equal(await running.app.store.countAlerts(), before);
  });

  it('the server still stores small messages afterwards', async () => {
    const reply = await streamPost(running.url, [Buffer.from(ewsMessage([alertXml({ analyzer: 'cowrie-after-large' })]))]);
    assert.equal(reply.text, OK_REPLY);
    assert.equal(db.prepare(`SELECT count(*) FROM alerts WHERE "peerIdent" = 'cowrie-after-large'`).pluck().get(), 1);
  });
});

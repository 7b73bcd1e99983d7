/**
 * A `largepayload` sample is decoded and hashed piece by piece while the message is read: however
 * the body is cut into pieces, and however the sample is written (wrapped lines, padding,
 * character references, a comment inside), the result is the sample's bytes as XML defines its
 * text, and the message is read as the parser reads it whole.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PayloadSpool } from '../src/enrich/payload-spool';
import { SampleDigest } from '../src/enrich/payload';
import { EwsMessageReader } from '../src/ingest/ews-message';

const LIMITS = { maxAlerts: 10, maxHeldBytes: 1 << 30, maxSampleChars: 1 << 30 };

function read(message: string, pieceSize: number, keepUpTo = 1 << 30) {
  const spool = new PayloadSpool();
  try {
    const reader = new EwsMessageReader(LIMITS, () => new SampleDigest(spool, keepUpTo));
    reader.trust();
    for (let at = 0; at < message.length; at += pieceSize) reader.write(message.slice(at, at + pieceSize));
    const alerts = reader.close().alerts;
    return alerts.map((alert) => {
      const sample = alert.sample!;
      return { md5: sample.md5, size: sample.size, bytes: sample.content?.().toString('hex') ?? null, description: alert.requests.get('description') };
    });
  } finally {
    spool.close();
  }
}

function message(samples: string[]): string {
  return `<EWS-SimpleMessage><Authentication><username>u</username><token>t</token></Authentication>${samples
    .map((text, i) => `<Alert><Analyzer id="dionaea-${i}"/><Request type="largepayload">${text}</Request><Request type="description">after ${i}</Request></Alert>`)
    .join('')}</EWS-SimpleMessage>`;
}

const bytes = randomBytes(3000);
const plain = bytes.toString('base64');
const padded = randomBytes(3001).toString('base64');
const expected = (text: string) => {
  const decoded = Buffer.from(text.replace(/&#x?[0-9a-f]+;|<!--.*?-->/gi, (ref) => (ref.startsWith('<!--') ? '' : String.fromCharCode(ref[2] === 'x' ? parseInt(ref.slice(3, -1), 16) : Number(ref.slice(2, -1))))), 'base64');
  return { md5: createHash('md5').update(decoded).digest('hex'), size: decoded.length, bytes: decoded.toString('hex') };
};

const cases: Array<[string, string]> = [
  ['pure base64', plain],
  ['padding at the end', padded],
  ['wrapped at 76 characters with \\n', plain.replace(/(.{76})/g, '$1\n')],
  ['wrapped with \\r\\n and blanks', plain.replace(/(.{64})/g, '$1\r\n  ')],
  ['character references', `${plain.slice(0, 100)}&#65;&#x42;${plain.slice(102 + 2)}`],
  ['a comment inside', `${plain.slice(0, 1500)}<!-- note -->${plain.slice(1500)}`],
  ['empty', ''],
];

describe('largepayload samples, read in pieces', () => {
  for (const [name, text] of cases) {
    it(name, () => {
      const want = expected(text);
      for (const pieceSize of [1, 2, 3, 5, 7, 64, 1000, 4096, 1 << 20]) {
        const got = read(message([text, plain]), pieceSize);
        assert.deepEqual(got[0], { ...want, description: 'after 0' }, `pieces of ${pieceSize}`);
        assert.deepEqual(got[1], { ...expected(plain), description: 'after 1' }, `pieces of ${pieceSize}`);
      }
    });
  }

  it('over the size kept: md5 and size, no bytes', () => {
    const [got] = read(message([plain]), 500, 1000);
    assert.deepEqual(got, { md5: createHash('md5').update(bytes).digest('hex'), size: 3000, bytes: null, description: 'after 0' });
  });

  it('a repeated sample is spooled once and read back right', () => {
    const got = read(message([plain, padded, plain]), 333);
    assert.equal(got[0]!.bytes, bytes.toString('hex'));
    assert.equal(got[2]!.bytes, bytes.toString('hex'));
    assert.equal(got[1]!.md5, expected(padded).md5);
  });

  it('a character the XML forbids inside a sample is still refused', () => {
    assert.throws(() => read(message([`${plain.slice(0, 8)}\u0001${plain.slice(8)}`]), 4), /malformed XML/);
  });
});

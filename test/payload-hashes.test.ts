/**
 * Payload md5s and fuzzy hashes are one-shot `crypto.hash` calls: they must equal what a Hash
 * object gives for the same bytes (stored payload ids and fuzzy hashes keep their values).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodePayload, fuzzyHttpHash, md5Hex } from '../src/enrich/payload';
import { hostileText, seededRandom } from './helpers';

test('md5Hex and fuzzyHttpHash equal the Hash object digests, for bytes and for hostile text', () => {
  const random = seededRandom(7);
  for (let i = 0; i < 200; i++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)));
    assert.equal(md5Hex(bytes), createHash('md5').update(bytes).digest('hex'));
    assert.equal(decodePayload(bytes.toString('base64')).md5, createHash('md5').update(bytes).digest('hex'));
    const text = hostileText(random, 20);
    assert.equal(md5Hex(text), createHash('md5').update(text).digest('hex'));
    const request = `GET /${text} HTTP/1.1\r\nHost: ${hostileText(random, 3)}\r\nX: ${text}\r\n\r\n`;
    const normalized = request.toLowerCase().replace(/^host:[^\r\n]*/gm, 'host:');
    assert.equal(fuzzyHttpHash(request), createHash('sha256').update(normalized).digest('hex'));
  }
});

/**
 * urlDecode writes bytes straight into a buffer (it runs for several fields of most alerts);
 * here it must give exactly what the straightforward version below (its previous implementation:
 * a number array, a TextEncoder for non-ASCII) gives, on edges and on random hostile input.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { urlDecode } from '../src/util/url-decode';
import { seededRandom } from './helpers';

function straightUrlDecode(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
  for (let i = 0; i < text.length;) {
    const code = text.charCodeAt(i);
    if (code === 0x25 && i + 2 < text.length && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
    } else if (code < 0x80) {
      bytes.push(code);
      i++;
    } else {
      const char = String.fromCodePoint(text.codePointAt(i)!);
      for (const b of encoder.encode(char)) bytes.push(b);
      i += char.length;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const EDGES = ['', '%', '%%', '%4', '%41', '%4g', '%G1', 'a%', 'a%4', 'a%41', '%41%', '100%', '%2B+', '%C3%A9', '%c3%a9', '%C3', '%C3é',
  'é%A9', '%FF', '%C0%80', '%ED%A0%80', '%F0%9F%98%80', '%F0%9F%98', '😀%20', '%😀', '\uD800%41', '%41\uDC00', '\uDC00\uD800', 'é'.repeat(20) + '%',
  '%E2%82', '%E2%82%AC', '\u0000%00', 'cat%20/proc/cpuinfo%20%7C%20grep', '%0Aenable%0Ashell%3B', '%%41', '%%%'];

describe('urlDecode: the same as the straightforward version', () => {
  it('on edges', () => {
    for (const text of EDGES) assert.equal(urlDecode(text), straightUrlDecode(text), JSON.stringify(text));
  });

  it('on random text of escapes, ASCII, non-ASCII, surrogate pairs and lone surrogates', () => {
    const random = seededRandom(11);
    const pieces = ['%', '%4', '%41', '%7f', '%80', '%C3', '%A9', '%E2', '%82', '%AC', '%F0', '%9F', '%98', '%FF', '%G0', '%%', 'a', 'Z', ' ', '+',
      '/', '\n', '\u0000', 'é', '中', '\u00ff', '😀', '\uD83D', '\uDE00', '\uFFFD', '\uFEFF'];
    for (let i = 0; i < 50_000; i++) {
      let text = '';
      for (let n = Math.floor(random() * 24); n > 0; n--) text += pieces[Math.floor(random() * pieces.length)];
      assert.equal(urlDecode(text), straightUrlDecode(text), JSON.stringify(text));
    }
  });
});

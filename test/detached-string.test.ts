/** Substrings kept in long-lived maps must not keep the strings they were cut from alive. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { detachedString } from '../src/util/detached-string';

test('the same text, short, long and beyond Latin-1', () => {
  for (const text of ['', '1.2.3.4', '123.123.123.123', '2a02:d180:1:2:3:4:5:6', 'é€\u{1F600}-1.2.3.4-abcdef']) {
    assert.equal(detachedString(text), text);
  }
});

test('a detached piece of a large concatenation does not keep the concatenation alive', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept: string[] = [];
  for (let round = 0; round < 20; round++) {
    // About 5 MB of addresses joined as SQLite's group_concat returns them, then split.
    const joined = Array.from({ length: 300_000 }, (_, i) => `${100 + round}.${100 + (i % 150)}.${100 + ((i >> 8) % 150)}.${100 + (i % 99)}`).join('\u0000');
    kept.push(detachedString(joined.split('\u0000')[12_345]!));
  }
  gc();
  const grownMb = (process.memoryUsage().heapUsed - before) / 1e6;
  assert.equal(kept.length, 20);
  assert.ok(grownMb < 30, `the heap grew by ${grownMb.toFixed(1)} MB for 20 kept addresses (each parent is about 5 MB)`);
});

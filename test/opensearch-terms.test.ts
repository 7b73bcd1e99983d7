/** When a terms aggregation's reported count errors prove its top exact, and when they do not. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { provablyExactTop } from '../src/store/opensearch/search';

const bucket = (key: string, count: number, error: number) => ({ key, doc_count: count, doc_count_error_upper_bound: error });

test('a top of exact counts strictly above what any unlisted key can have is exact', () => {
  assert.equal(provablyExactTop([bucket('a', 20, 0), bucket('b', 10, 0), bucket('c', 3, 2)], 4, 100, 2), true);
});

test('a top bucket that may be undercounted is not exact', () => {
  assert.equal(provablyExactTop([bucket('a', 20, 1), bucket('b', 10, 0)], 4, 100, 1), false);
});

test('an unlisted key that may reach or tie the K-th count makes the top not exact', () => {
  assert.equal(provablyExactTop([bucket('a', 20, 0), bucket('b', 10, 0)], 10, 100, 2), false, 'tie: an unlisted key may sort first');
  assert.equal(provablyExactTop([bucket('a', 20, 0), bucket('b', 10, 0)], 9, 100, 2), true);
});

test('a key cut from a full answer may have up to the last listed count plus the overall error', () => {
  // Shard A lists x 10, y 9 (last 9); shard B lists y 8, z 7 (last 7): y 17 exact, overall error 16.
  // Asked for 2 buckets, x (10, error 7, maybe 17 and first by key) can be the cut one.
  assert.equal(provablyExactTop([bucket('y', 17, 0), bucket('x', 10, 7)], 16, 2, 1), false);
  assert.equal(provablyExactTop([bucket('y', 17, 0), bucket('x', 10, 7)], 16, 3, 1), false, 'x itself may reach 17');
  assert.equal(provablyExactTop([bucket('y', 18, 0), bucket('x', 10, 7)], 16, 3, 1), true);
});

test('fewer keys than asked are exact only when no shard cut its list', () => {
  assert.equal(provablyExactTop([bucket('a', 3, 0)], 0, 100, 5), true);
  assert.equal(provablyExactTop([bucket('a', 3, 0)], 1, 100, 5), false);
  assert.equal(provablyExactTop([], 0, 100, 5), true);
});

test('an unknown error (-1 or missing) is never taken as exact', () => {
  assert.equal(provablyExactTop([bucket('a', 20, 0)], -1, 100, 1), false);
  assert.equal(provablyExactTop([{ key: 'a', doc_count: 20 }], 0, 100, 1), false);
});

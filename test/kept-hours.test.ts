/**
 * The store-agnostic kept hours (src/store/kept-hours.ts) with an hour counter over a list of
 * rows held by the test: each hour is counted once, a moving window counts only the hours that
 * came in, and its merge always equals the merge of its hours counted afresh.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatUtc } from '../src/domain/time';
import { HOUR, type HourCounter, KeptHours } from '../src/store/kept-hours';
import { type ActivityBySource, addActivity, type CountedSources } from '../src/store/source-activity';
import { seededRandom } from './helpers';

interface Row { readonly time: number; readonly address: string; readonly type: string; readonly sensor: string }

const START = Date.UTC(2026, 10, 20);

function rows(n: number): Row[] {
  const next = seededRandom(7);
  return Array.from({ length: n }, () => ({
    time: START + Math.floor(next() * 30 * HOUR / 1000) * 1000,
    address: `192.0.2.${Math.floor(next() * 12)}`,
    type: ['a', 'b', 'c'][Math.floor(next() * 3)]!,
    sensor: `s${Math.floor(next() * 4)}`,
  }));
}

function countOf(data: readonly Row[], from: number, to: number): ActivityBySource {
  const sources: ActivityBySource = new Map();
  for (const r of data) {
    if (r.time >= from && r.time < to) addActivity(sources, r.address, { count: 1, first: formatUtc(r.time), last: formatUtc(r.time), types: r.type, sensors: r.sensor });
  }
  return sources;
}

function counter(data: readonly Row[], counted: number[]): HourCounter<string> {
  return async (_shape, from, to, deliver) => {
    for (let hour = from; hour < to; hour += HOUR) {
      counted.push(hour);
      deliver(hour, countOf(data, hour, hour + HOUR));
    }
  };
}

const snapshot = (counted: CountedSources): unknown => counted.ranked().map((s) => ({ ...s, activity: counted.get(s.address) }));

test('kept hours: a window moving hour by hour counts only the new hour and merges as a fresh count does', async () => {
  const data = rows(2000);
  const counted: number[] = [];
  const kept = new KeptHours(counter(data, counted));
  for (let step = 0; step < 12; step++) {
    const first = START + step * HOUR;
    const end = first + 10 * HOUR;
    const before = counted.length;
    const moved = await kept.withWindow('w', 'shape', first, end, snapshot);
    assert.equal(counted.length - before, step === 0 ? 10 : 1, `step ${step}: hours counted`);
    const fresh = await new KeptHours(counter(data, [])).withWindow('w', 'shape', first, end, snapshot);
    assert.deepEqual(moved, fresh, `step ${step}`);
  }
});

test('kept hours: more window shapes than kept forget the others once, and the new one is counted once', async () => {
  const data = rows(500);
  const counted: number[] = [];
  const kept = new KeptHours(counter(data, counted));
  for (let shape = 0; shape < 9; shape++) {
    const before = counted.length;
    await kept.withWindow(`w${shape}`, `shape${shape}`, START, START + 5 * HOUR, () => undefined);
    assert.equal(counted.length - before, 5, `shape ${shape}: each hour counted once`);
  }
});

/**
 * The answer of a kept window plus its edges (answerActivity in src/store/source-activity.ts)
 * finds the replaced entries by position and the place of each fresh one by binary search; here
 * it is compared with the straightforward merge (mergeRanked with the edge sources as the set of
 * replaced addresses), over random windows kept by KeptHours while they move and take late
 * alerts (so the positions must follow each new version of the ranked list), random edges
 * (sources of the window and new ones) and random minimum counts and sensors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SourceActivity, SourceActivityQuery } from '../src/domain/query';
import { formatUtc } from '../src/domain/time';
import { HOUR, KeptHours } from '../src/store/kept-hours';
import { type Activity, type ActivityBySource, addActivity, answerActivity, type CountedSources, mergeRanked, ranking, toSourceActivity }
  from '../src/store/source-activity';
import { seededRandom } from './helpers';

const START = Date.UTC(2026, 10, 20);

/** The straightforward answer: every edge source merged with its counted part, ranked into the counted list by mergeRanked. */
function reference(counted: CountedSources, edges: ActivityBySource, query: SourceActivityQuery): SourceActivity[] {
  const fresh: SourceActivity[] = [];
  edges.forEach((edge, address) => {
    const merged: ActivityBySource = new Map();
    const base = counted.get(address);
    if (base !== undefined) addActivity(merged, address, base);
    addActivity(merged, address, edge);
    fresh.push(toSourceActivity(address, merged.get(address)!));
  });
  return mergeRanked(counted.ranked(), new Set(edges.keys()), fresh.sort(ranking), (e) => e.sensors >= query.minSensors, query.minAlerts);
}

test('answerActivity equals the straightforward merge while the window moves and takes late alerts', async () => {
  const next = seededRandom(11);
  const address = (): string => `192.0.2.${Math.floor(next() * 200)}`;
  const row = (hour: number): Activity => {
    const time = formatUtc(hour + Math.floor(next() * 3600) * 1000);
    return { count: 1 + Math.floor(next() * 4), first: time, last: time, types: ['a', 'b', 'c'][Math.floor(next() * 3)]!,
      sensors: next() < 0.1 ? new Set<string>() : `s${Math.floor(next() * 4)}` };
  };
  const hourOf = (): ActivityBySource => {
    const sources: ActivityBySource = new Map();
    for (let i = Math.floor(next() * 60); i > 0; i--) addActivity(sources, address(), row(START));
    return sources;
  };
  const kept = new KeptHours<string>(async (_shape, from, to, deliver) => {
    for (let hour = from; hour < to; hour += HOUR) deliver(hour, hourOf());
  });
  let compared = 0;
  for (let step = 0; step < 40; step++) {
    const first = START + step * HOUR;
    if (step % 3 === 2) kept.addLate(first + HOUR, () => true, address(), row(first + HOUR));
    const edges: ActivityBySource = new Map();
    for (let i = Math.floor(next() * 40); i > 0; i--) addActivity(edges, next() < 0.2 ? `2001:db8::${Math.floor(next() * 50)}` : address(), row(first));
    const query: SourceActivityQuery = { range: { from: first, to: first + 6 * HOUR }, peerTypes: [],
      minAlerts: 1 + Math.floor(next() * next() * 8), minSensors: next() < 0.5 ? 1 : 1 + Math.floor(next() * 3) };
    await kept.withWindow('w', 'shape', first, first + 6 * HOUR, (counted) => {
      const expected = reference(counted, edges, query);
      assert.deepEqual(answerActivity(counted, edges, query), expected, `step ${step}`);
      assert.deepEqual(answerActivity(undefined, edges, query), reference({ get: () => undefined, ranked: () => [], positionOf: () => undefined }, edges, query));
      if (expected.length > 0) compared++;
    });
  }
  assert.ok(compared > 30, 'most steps compare non-empty answers');
});

/**
 * Query shapes and exact aggregation paging shared by the OpenSearch store's questions.
 * Aggregations are exact: every-key questions page through a composite aggregation; top-K
 * questions ask a terms aggregation and fall back to every key when its reported count errors
 * cannot prove the top (several daily indices are several shards).
 */
import type { DomainScope, TimeRange, TopTimeline } from '../../domain/query';
import type { Cluster } from './cluster';

export type Query = Record<string, unknown>;

/** Missing day indices are no error. */
export const INDEX_OPTIONS = 'ignore_unavailable=true&allow_no_indices=true';
/**
 * For _search also: a shard that fails (not yet allocated after its index was created, a node
 * leaving) fails the search (the cluster answers 503, the API answers 503) instead of giving
 * counts short of that shard.
 */
export const SEARCH_OPTIONS = `${INDEX_OPTIONS}&allow_partial_search_results=false`;

/**
 * Where a question searches. With `preFilter` the engine first asks every shard whether the
 * query's ranges can match it and skips those that cannot: worth its round where every daily
 * index is named and a createTime range selects a few of them; pure cost (measured: a third of
 * an unseen source's search) where the indices are already the window's days or only a term
 * filters. `'many'` leaves it to the engine, which pre-filters beyond 128 shards. A plain string
 * is an index expression without it.
 */
export interface Target {
  readonly indices: string;
  readonly preFilter: boolean | 'many';
}

/** The engine pre-filters every sorted search of several shards unless told a threshold above their number. */
const NO_PRE_FILTER = 2_147_483_647;

export function searchPath(where: string | Target): string {
  const { indices, preFilter } = typeof where === 'string' ? { indices: where, preFilter: false } : where;
  return `/${indices}/_search?${SEARCH_OPTIONS}${preFilter === 'many' ? '' : `&pre_filter_shard_size=${preFilter ? 1 : NO_PRE_FILTER}`}`;
}

export function scopeFilter(scope: DomainScope): Query[] {
  return scope === 'both' ? [] : [{ term: { clientDomain: scope === 'community' } }];
}

/**
 * [from, to) on a date field, to the millisecond. `millisMapped`: every index's format of the
 * field reads epoch milliseconds, so the bounds need no format of their own (naming one costs
 * each shard a formatter: about 1 ms per search of 30 daily indices, bench/README.md).
 */
export function timeRange(field: 'recievedTime' | 'createTime', range: TimeRange, millisMapped = false): Query {
  return { range: { [field]: { gte: range.from, lt: range.to, ...(millisMapped ? {} : { format: 'epoch_millis' }) } } };
}

/** Whether a date field's mapped format reads epoch milliseconds (a missing format is the engine's default, which does). */
export function readsEpochMillis(format: string | undefined): boolean {
  return format === undefined || format.split('||').map((f) => f.trim()).includes('epoch_millis');
}

export function filtered(...filters: Query[]): Query {
  return { bool: { filter: filters } };
}

interface CompositeAnswer {
  aggregations?: { keys?: { after_key?: Record<string, unknown>; buckets: Array<{ key: Record<string, unknown>; doc_count: number } & Record<string, unknown>> } };
}

export type CompositeBucket = { key: Record<string, unknown>; doc_count: number } & Record<string, unknown>;

/** Every bucket of a composite aggregation over `sources`, page by page (after `after`, if given). */
export async function compositeBuckets(cluster: Cluster, where: string | Target, query: Query,
  sources: Array<Record<string, unknown>>, subAggregations?: Record<string, unknown>, pageSize = 10_000, after?: Record<string, unknown>): Promise<CompositeBucket[]> {
  const buckets: CompositeBucket[] = [];
  for (;;) {
    const body = {
      size: 0, track_total_hits: false, query,
      aggs: { keys: { composite: { size: pageSize, sources, ...(after ? { after } : {}) }, ...(subAggregations ? { aggs: subAggregations } : {}) } },
    };
    const answer = await cluster.request<CompositeAnswer>('POST', searchPath(where), body);
    const page = answer.body.aggregations?.keys;
    if (page === undefined) return buckets;
    buckets.push(...page.buckets);
    if (page.buckets.length < pageSize || page.after_key === undefined) return buckets;
    after = page.after_key;
  }
}

/**
 * Every bucket of several composite aggregations over the same documents: their first pages in
 * one search (one round trip where each would have its own), any further pages each on its own.
 */
export async function compositeBucketsOfEach<K extends string>(cluster: Cluster, where: string | Target, query: Query,
  each: Record<K, Array<Record<string, unknown>>>, pageSize = 10_000): Promise<Record<K, CompositeBucket[]>> {
  const names = Object.keys(each) as K[];
  const body = { size: 0, track_total_hits: false, query, aggs: Object.fromEntries(names.map((name) => [name, { composite: { size: pageSize, sources: each[name] } }])) };
  type Page = NonNullable<NonNullable<CompositeAnswer['aggregations']>['keys']>;
  const answer = await cluster.request<{ aggregations?: Record<string, Page> }>('POST', searchPath(where), body);
  const result = {} as Record<K, CompositeBucket[]>;
  for (const name of names) {
    const page = answer.body.aggregations?.[name];
    const first = page?.buckets ?? [];
    result[name] = page !== undefined && first.length >= pageSize && page.after_key !== undefined
      ? [...first, ...await compositeBuckets(cluster, where, query, each[name], undefined, pageSize, page.after_key)]
      : first;
  }
  return result;
}

/** One terms source of a composite aggregation. */
export function termsSource(name: string, field: string): Record<string, unknown> {
  return { [name]: { terms: { field } } };
}

interface TermsBucket { key: unknown; key_as_string?: string; doc_count: number; doc_count_error_upper_bound?: number }

interface TermsAnswer {
  aggregations?: { top?: { doc_count_error_upper_bound: number; sum_other_doc_count?: number; buckets: Array<TermsBucket & Record<string, unknown>> } };
}

/**
 * Whether the first `limit` buckets of a terms answer (ordered by count, then key) are provably
 * the exact top. Reported counts are lower bounds; a bucket's own error bounds what shards that
 * did not list it may hold; a key not in the answer has at most the overall error, plus the
 * last listed count when the answer was cut at `size` (a key cut there was counted up to that).
 */
export function provablyExactTop(buckets: readonly TermsBucket[], overallError: number, size: number, limit: number): boolean {
  if (overallError < 0) return false;
  const unlisted = overallError + (buckets.length >= size ? buckets[buckets.length - 1]!.doc_count : 0);
  if (buckets.length < limit) return unlisted === 0;
  const error = (b: TermsBucket): number => b.doc_count_error_upper_bound ?? -1;
  const top = buckets.slice(0, limit);
  if (top.some((b) => error(b) !== 0)) return false;
  const kth = top[top.length - 1]!.doc_count;
  // Strictly above: an equal unlisted key could precede the K-th by key order.
  if (kth <= unlisted) return false;
  // A listed key below the K-th with a possible undercount must not reach the K-th either.
  return buckets.slice(limit).every((b) => error(b) === 0 || (error(b) > 0 && b.doc_count + error(b) < kth));
}

/** The candidate round of topTerms: `size` buckets answered, `shardSize` keys listed by each shard. */
export interface CandidateSizes {
  readonly size: number;
  readonly shardSize: number;
}

export interface TopTerm {
  readonly key: string;
  readonly count: number;
  /** The results of the `details` sub-aggregations for this key, exact (see topTerms). */
  readonly details: Record<string, unknown>;
}

const termKey = (b: TermsBucket): string => b.key_as_string ?? String(b.key);
const byCountThenKey = (a: { key: string; count: number }, b: { key: string; count: number }): number =>
  b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The `limit` keys of `field` with most documents, most first, ties by key, each with the
 * `details` sub-aggregations over its documents. Exact: a terms aggregation names candidates;
 * the first `limit` are counted exactly (with their details) and kept when no other key can
 * reach the K-th exact count: a listed one has at most its reported count plus its error, an
 * unlisted one at most the bound of provablyExactTop. Otherwise every listed key is counted
 * exactly, and failing that every key. A modest `shard_size` keeps the candidate round cheap: on
 * skewed keys (ports, URLs) those bounds stay far below the K-th. `candidates` sizes that round
 * (by default each shard lists max(10 K, 200) keys and the answer max(2 K, 100)); answering
 * more buckets than `limit` bounds what a key cut from the answer can have.
 */
export async function topTerms(cluster: Cluster, where: string | Target, query: Query, field: string, limit: number,
  details?: Record<string, unknown>, candidates: CandidateSizes = { size: Math.max(limit * 2, 100), shardSize: Math.max(limit * 10, 200) }): Promise<TopTerm[]> {
  const { size, shardSize } = candidates;
  const body = {
    size: 0, track_total_hits: false, query,
    aggs: { top: { terms: { field, size, shard_size: Math.max(shardSize, size), show_term_doc_count_error: true, order: [{ _count: 'desc' }, { _key: 'asc' }] } } },
  };
  const answer = await cluster.request<TermsAnswer>('POST', searchPath(where), body);
  const top = answer.body.aggregations?.top;
  if (top === undefined || limit === 0) return [];
  const overall = top.doc_count_error_upper_bound;
  if (details === undefined && provablyExactTop(top.buckets, overall, size, limit)) {
    return top.buckets.slice(0, limit).map((b) => ({ key: termKey(b), count: b.doc_count, details: {} }));
  }
  if (overall >= 0) {
    const unlisted = overall + (top.buckets.length >= size ? top.buckets[top.buckets.length - 1]!.doc_count : 0);
    const first = await countKeys(cluster, where, query, field, top.buckets.slice(0, limit).map(termKey), details);
    // With fewer keys than asked, no other key may exist: every key has at least one document.
    const kth = first.length >= limit ? first[limit - 1]!.count : 1;
    const beyond = top.buckets.slice(limit);
    const reach = (b: TermsBucket): number => b.doc_count + ((b.doc_count_error_upper_bound ?? -1) >= 0 ? b.doc_count_error_upper_bound! : overall);
    // Strictly below: an equal key could precede the K-th by key order.
    if (first.length === Math.min(limit, top.buckets.length) && unlisted < kth && beyond.every((b) => reach(b) < kth)) return first;
    // The engine's per-bucket errors are often too high over many shards (seen on 2.19): count every listed key.
    const listed = await countKeys(cluster, where, query, field, top.buckets.map(termKey), undefined);
    if (listed.length >= limit && listed[limit - 1]!.count > unlisted) {
      return details === undefined ? listed.slice(0, limit) : countKeys(cluster, where, query, field, listed.slice(0, limit).map((t) => t.key), details);
    }
  }
  const every = (await compositeBuckets(cluster, where, query, [termsSource('key', field)]))
    .map((b) => ({ key: String(b.key['key']), count: b.doc_count })).sort(byCountThenKey).slice(0, limit);
  return details === undefined ? every.map((t) => ({ ...t, details: {} })) : countKeys(cluster, where, query, field, every.map((t) => t.key), details);
}

/** One time bucket of a date_histogram whose terms sub-aggregation lists that bucket's top keys. */
export interface TimelineBucket {
  readonly key: number;
  readonly keys: { doc_count_error_upper_bound: number; sum_other_doc_count: number; buckets: readonly TermsBucket[] };
}

/**
 * A candidate whose total the per-bucket lists do not settle: `settled` holds its exact counts in
 * the buckets where they are known (listed with error 0; absent from a bucket that listed every
 * key means 0 there), `unsettled` the buckets (their keys, ascending) where only a recount knows.
 */
export interface UnsettledKey {
  readonly key: string;
  readonly settled: ReadonlyMap<number, number>;
  readonly unsettled: readonly number[];
}

/** What per-bucket top lists prove about the top `limit` keys over all buckets. */
export type TimelineProof =
  /** Exact: these are the top keys with their timelines. */
  | { readonly top: TopTimeline[] }
  /** The top keys are among `exact` and `recount`; those of `recount` need exact counts. */
  | { readonly exact: TopTimeline[]; readonly recount: UnsettledKey[] }
  /** Nothing proven. */
  | undefined;

/**
 * Bounds each key's total from per-bucket top lists (a date_histogram over the window with a
 * terms sub-aggregation per bucket). In a bucket, a listed key has its count plus at most its
 * error; an unlisted key at most the smaller of the last listed count and `sum_other_doc_count`,
 * plus the bucket's overall error (0 when the bucket listed all its keys). A key's total is
 * exact when every bucket's part is; any key never listed has at most the sum of the buckets'
 * unlisted bounds. The top `limit` keys by lower bound name the K-th lower bound; every key whose
 * upper bound reaches it is a candidate, and no other key (listed or not) can be among the top.
 */
export function proveTopFromTimelines(buckets: readonly TimelineBucket[], limit: number): TimelineProof {
  interface Tally { lower: number; slack: number; seen: Set<number>; timeline: Map<number, number>; unsure: Set<number> }
  const keys = new Map<string, Tally>();
  const unlistedIn = new Map<number, number>();
  for (const bucket of buckets) {
    const terms = bucket.keys;
    if (terms.doc_count_error_upper_bound < 0) return undefined;
    const last = terms.buckets.length > 0 ? terms.buckets[terms.buckets.length - 1]!.doc_count : 0;
    unlistedIn.set(bucket.key, Math.min(last, terms.sum_other_doc_count) + terms.doc_count_error_upper_bound);
    for (const b of terms.buckets) {
      const error = b.doc_count_error_upper_bound ?? -1;
      if (error < 0) return undefined;
      const key = termKey(b);
      const tally = keys.get(key) ?? { lower: 0, slack: 0, seen: new Set<number>(), timeline: new Map<number, number>(), unsure: new Set<number>() };
      tally.lower += b.doc_count;
      tally.slack += error;
      if (error > 0) tally.unsure.add(bucket.key);
      tally.seen.add(bucket.key);
      tally.timeline.set(bucket.key, b.doc_count);
      keys.set(key, tally);
    }
  }
  const unlisted = [...unlistedIn.values()].reduce((a, b) => a + b, 0);
  const ranked = [...keys].map(([key, t]) => {
    let upper = t.lower + t.slack;
    for (const [time, bound] of unlistedIn) if (!t.seen.has(time)) upper += bound;
    return { key, count: t.lower, upper, tally: t };
  }).sort(byCountThenKey);
  if (limit === 0) return { top: [] };
  let candidates: typeof ranked;
  if (ranked.length < limit) {
    // Fewer keys listed than asked: the answer is every key, known only when none went unlisted.
    if (unlisted > 0) return undefined;
    candidates = ranked;
  } else {
    const kth = ranked[limit - 1]!.count;
    // Strictly below: a key equal to the K-th could precede it by key order.
    if (unlisted >= kth) return undefined;
    candidates = ranked.filter((t, i) => i < limit || t.upper >= kth);
  }
  const exact = candidates.filter((t) => t.upper === t.count).map((t) => ({ key: t.key, total: t.count, buckets: t.tally.timeline }));
  // Only for the few candidates: where each may have more than listed (an error, or cut from a list).
  const recount = candidates.filter((t) => t.upper !== t.count).map(({ key, tally }) => {
    const unsure = new Set(tally.unsure);
    for (const [time, bound] of unlistedIn) if (bound > 0 && !tally.seen.has(time)) unsure.add(time);
    return { key, settled: new Map([...tally.timeline].filter(([time]) => !unsure.has(time))), unsettled: [...unsure].sort((a, b) => a - b) };
  });
  return recount.length === 0 ? { top: exact.slice(0, limit) } : { exact, recount };
}

/** More candidates than this to recount: the general path is cheaper. */
const MAX_RECOUNT = 200;

/**
 * The `limit` keys of `field` with most documents in the window, each with its exact count per
 * bucket of `bucketMs` on the UTC grid (by `timeField`), most first, ties by key. One search
 * asks each bucket's top keys (the engine answers it from cheap per-day results, which its
 * request cache keeps for settled days); proveTopFromTimelines decides, a second search counts
 * the candidates it could not settle, and topTerms answers when neither proves the top.
 * `perBucketKeys`: how many keys each bucket lists; longer lists prove flatter distributions in
 * one search but cost bytes (bench/README.md: 25 for ports, 50 for URLs on the bench's data).
 * `whereOf`: where the recount of some time ranges searches (the indices that can hold them;
 * by default `where`).
 */
export async function topTermTimelines(cluster: Cluster, where: string | Target, query: Query, field: string, timeField: string,
  bucketMs: number, limit: number, perBucketKeys: number, whereOf: (ranges: readonly TimeRange[]) => string | Target = () => where): Promise<TopTimeline[]> {
  const histogram = timelineHistogram(timeField, bucketMs);
  const perBucket = Math.max(perBucketKeys, limit * 2 + 5);
  const body = {
    size: 0, track_total_hits: false, query,
    aggs: { timeline: { ...histogram, aggs: { keys: { terms: { field, size: perBucket, shard_size: perBucket, show_term_doc_count_error: true } } } } },
  };
  const answer = await cluster.request<{ aggregations?: { timeline?: { buckets: TimelineBucket[] } } }>('POST', searchPath(where), body);
  const proof = proveTopFromTimelines(answer.body.aggregations?.timeline?.buckets ?? [], limit);
  if (proof !== undefined && 'top' in proof) return proof.top;
  if (proof !== undefined && proof.recount.length <= MAX_RECOUNT) {
    const recounted = await recountBuckets(cluster, whereOf, query, field, timeField, bucketMs, proof.recount, histogram);
    return [...proof.exact, ...recounted].sort((a, b) => byCountThenKey({ key: a.key, count: a.total }, { key: b.key, count: b.total })).slice(0, limit);
  }
  return topTermsWithTimelines(cluster, where, query, field, timeField, bucketMs, limit);
}

/**
 * The same answer as topTermTimelines by the other road: topTerms finds the top keys by their
 * totals over the window, then counts their timelines. Two small searches whatever the number of
 * buckets, where topTermTimelines lists keys per bucket (bench/README.md: cheaper for URLs over
 * hourly and 6-hourly buckets, whose lists must be long; dearer for ports and whole days).
 */
export async function topTermsWithTimelines(cluster: Cluster, where: string | Target, query: Query, field: string, timeField: string,
  bucketMs: number, limit: number, candidates?: CandidateSizes): Promise<TopTimeline[]> {
  const top = await topTerms(cluster, where, query, field, limit, { timeline: timelineHistogram(timeField, bucketMs) }, candidates);
  return top.map((t) => ({
    key: t.key, total: t.count,
    buckets: new Map((t.details['timeline'] as { buckets: Array<{ key: number; doc_count: number }> }).buckets.map((b) => [Number(b.key), b.doc_count])),
  }));
}

/** Buckets of `bucketMs` on the UTC grid; empty ones left out. */
function timelineHistogram(timeField: string, bucketMs: number): Query {
  return { date_histogram: { field: timeField, fixed_interval: `${bucketMs}ms`, min_doc_count: 1 } };
}

/**
 * Exact totals and timelines of unsettled candidates: only the buckets where some candidate is
 * unsettled are counted again (adjacent ones merged into one range each, searched in the indices
 * `whereOf` names for them), and each candidate's exact counts of the other buckets are added
 * (bench/README.md: the 7-day URL tops recount a few 6-hour buckets, not 7 days).
 */
async function recountBuckets(cluster: Cluster, whereOf: (ranges: readonly TimeRange[]) => string | Target, query: Query, field: string, timeField: string,
  bucketMs: number, keys: readonly UnsettledKey[], histogram: Query): Promise<TopTimeline[]> {
  const starts = [...new Set(keys.flatMap((k) => k.unsettled))].sort((a, b) => a - b);
  const ranges: TimeRange[] = [];
  for (const start of starts) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.to === start) ranges[ranges.length - 1] = { from: last.from, to: start + bucketMs };
    else ranges.push({ from: start, to: start + bucketMs });
  }
  const inRanges = { bool: { should: ranges.map((r) => ({ range: { [timeField]: { gte: r.from, lt: r.to, format: 'epoch_millis' } } })), minimum_should_match: 1 } };
  const counted = new Map((await countKeys(cluster, whereOf(ranges), filtered(query, inRanges), field, keys.map((k) => k.key), { timeline: histogram }))
    .map((t) => [t.key, (t.details['timeline'] as { buckets: Array<{ key: number; doc_count: number }> }).buckets]));
  const recounted = new Set(starts);
  return keys.map((k) => {
    const buckets = new Map([...k.settled].filter(([time]) => !recounted.has(time)));
    for (const b of counted.get(k.key) ?? []) buckets.set(Number(b.key), b.doc_count);
    const sorted = new Map([...buckets].sort(([a], [b]) => a - b));
    return { key: k.key, total: [...sorted.values()].reduce((a, b) => a + b, 0), buckets: sorted };
  });
}

/**
 * Exact counts (and `details`) of the given keys, most first, ties by key: a terms aggregation
 * restricted to them, each shard asked for one bucket more than there are keys, lists every one
 * it has, so no count is cut (checked: both error figures 0, which a shard answering as many
 * buckets as asked would spoil; paged otherwise).
 */
async function countKeys(cluster: Cluster, where: string | Target, query: Query, field: string, keys: readonly string[],
  details: Record<string, unknown> | undefined): Promise<TopTerm[]> {
  if (keys.length === 0) return [];
  const only = filtered(query, { terms: { [field]: keys } });
  const body = {
    size: 0, track_total_hits: false, query: only,
    aggs: { top: { terms: { field, include: keys, size: keys.length, shard_size: keys.length + 1, show_term_doc_count_error: true }, ...(details ? { aggs: details } : {}) } },
  };
  const top = (await cluster.request<TermsAnswer>('POST', searchPath(where), body)).body.aggregations?.top;
  if (top !== undefined && top.doc_count_error_upper_bound === 0 && (top.sum_other_doc_count ?? 0) === 0) {
    return top.buckets.map((b) => ({ key: termKey(b), count: b.doc_count, details: b })).sort(byCountThenKey);
  }
  return (await compositeBuckets(cluster, where, only, [termsSource('key', field)], details))
    .map((b) => ({ key: String(b.key['key']), count: b.doc_count, details: b })).sort(byCountThenKey);
}

export interface Hit<T> {
  readonly _index: string;
  readonly _id: string;
  readonly _source: T;
  readonly _seq_no?: number;
  readonly _primary_term?: number;
  readonly sort?: unknown[];
}

export interface SearchAnswer<T> {
  hits: { hits: Array<Hit<T>> };
}

export async function searchHits<T>(cluster: Cluster, where: string | Target, body: Record<string, unknown>): Promise<Array<Hit<T>>> {
  const answer = await cluster.request<SearchAnswer<T>>('POST', searchPath(where), { track_total_hits: false, ...body });
  return answer.body.hits.hits;
}

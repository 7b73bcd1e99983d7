/**
 * Query shapes and exact aggregation paging shared by the OpenSearch store's questions.
 * Aggregations are exact: every-key questions page through a composite aggregation; top-K
 * questions ask a terms aggregation and fall back to every key when its reported count errors
 * cannot prove the top (several daily indices are several shards).
 */
import type { DomainScope, TimeRange } from '../../domain/query';
import type { Cluster } from './cluster';

export type Query = Record<string, unknown>;

/** Missing day indices are no error. */
export const INDEX_OPTIONS = 'ignore_unavailable=true&allow_no_indices=true';
/**
 * For _search also: the pre-filter skips shards whose values miss the query's ranges; a shard that
 * fails (not yet allocated after its index was created, a node leaving) fails the search (the
 * cluster answers 503, the API answers 503) instead of giving counts short of that shard.
 */
export const SEARCH_OPTIONS = `${INDEX_OPTIONS}&pre_filter_shard_size=1&allow_partial_search_results=false`;

export function scopeFilter(scope: DomainScope): Query[] {
  return scope === 'both' ? [] : [{ term: { clientDomain: scope === 'community' } }];
}

/** [from, to) on a date field, to the millisecond. */
export function timeRange(field: 'recievedTime' | 'createTime', range: TimeRange): Query {
  return { range: { [field]: { gte: range.from, lt: range.to, format: 'epoch_millis' } } };
}

export function filtered(...filters: Query[]): Query {
  return { bool: { filter: filters } };
}

interface CompositeAnswer {
  aggregations?: { keys?: { after_key?: Record<string, unknown>; buckets: Array<{ key: Record<string, unknown>; doc_count: number } & Record<string, unknown>> } };
}

export type CompositeBucket = { key: Record<string, unknown>; doc_count: number } & Record<string, unknown>;

/** Every bucket of a composite aggregation over `sources`, page by page. */
export async function compositeBuckets(cluster: Cluster, indices: string, query: Query,
  sources: Array<Record<string, unknown>>, subAggregations?: Record<string, unknown>, pageSize = 10_000): Promise<CompositeBucket[]> {
  const buckets: CompositeBucket[] = [];
  let after: Record<string, unknown> | undefined;
  for (;;) {
    const body = {
      size: 0, track_total_hits: false, query,
      aggs: { keys: { composite: { size: pageSize, sources, ...(after ? { after } : {}) }, ...(subAggregations ? { aggs: subAggregations } : {}) } },
    };
    const answer = await cluster.request<CompositeAnswer>('POST', `/${indices}/_search?${SEARCH_OPTIONS}`, body);
    const page = answer.body.aggregations?.keys;
    if (page === undefined) return buckets;
    buckets.push(...page.buckets);
    if (page.buckets.length < pageSize || page.after_key === undefined) return buckets;
    after = page.after_key;
  }
}

/** One terms source of a composite aggregation. */
export function termsSource(name: string, field: string): Record<string, unknown> {
  return { [name]: { terms: { field } } };
}

interface TermsBucket { key: unknown; key_as_string?: string; doc_count: number; doc_count_error_upper_bound?: number }

interface TermsAnswer {
  aggregations?: { top?: { doc_count_error_upper_bound: number; buckets: TermsBucket[] } };
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

/**
 * The `limit` keys of `field` with most documents, most first, ties by key. Exact: a terms
 * aggregation answers when its reported count errors prove the top (see provablyExactTop),
 * otherwise every key is counted.
 */
export async function topTerms(cluster: Cluster, indices: string, query: Query, field: string, limit: number): Promise<Array<{ key: string; count: number }>> {
  const shardSize = Math.max(limit * 10, 1000);
  // Answering more buckets than `limit` bounds what a key cut from the answer can have.
  const size = Math.max(limit * 2, 100);
  const body = {
    size: 0, track_total_hits: false, query,
    aggs: { top: { terms: { field, size, shard_size: Math.max(shardSize, size), show_term_doc_count_error: true, order: [{ _count: 'desc' }, { _key: 'asc' }] } } },
  };
  const answer = await cluster.request<TermsAnswer>('POST', `/${indices}/_search?${SEARCH_OPTIONS}`, body);
  const top = answer.body.aggregations?.top;
  if (top === undefined) return [];
  if (provablyExactTop(top.buckets, top.doc_count_error_upper_bound, size, limit)) {
    return top.buckets.slice(0, limit).map((b) => ({ key: b.key_as_string ?? String(b.key), count: b.doc_count }));
  }
  const counted = async (q: Query): Promise<Array<{ key: string; count: number }>> =>
    (await compositeBuckets(cluster, indices, q, [termsSource('key', field)])).map((b) => ({ key: String(b.key['key']), count: b.doc_count }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // The engine's per-bucket errors are often too high over many shards (seen on 2.19): count the
  // listed keys exactly; a key not listed still has at most the bound below.
  if (top.doc_count_error_upper_bound >= 0 && top.buckets.length > 0) {
    const unlisted = top.doc_count_error_upper_bound + (top.buckets.length >= size ? top.buckets[top.buckets.length - 1]!.doc_count : 0);
    const listed = await counted(filtered(query, { terms: { [field]: top.buckets.map((b) => b.key_as_string ?? String(b.key)) } }));
    if (listed.length >= limit && listed[limit - 1]!.count > unlisted) return listed.slice(0, limit);
  }
  return (await counted(query)).slice(0, limit);
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

export async function searchHits<T>(cluster: Cluster, indices: string, body: Record<string, unknown>): Promise<Array<Hit<T>>> {
  const answer = await cluster.request<SearchAnswer<T>>('POST', `/${indices}/_search?${SEARCH_OPTIONS}`, { track_total_hits: false, ...body });
  return answer.body.hits.hits;
}

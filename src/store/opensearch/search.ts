/**
 * Query shapes and exact aggregation paging shared by the OpenSearch store's questions.
 * Aggregations are exact: every-key questions page through a composite aggregation; top-K
 * questions ask a terms aggregation and fall back to every key when the engine reports a
 * possible count error (several daily indices are several shards).
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

interface TermsAnswer {
  aggregations?: { top?: { doc_count_error_upper_bound: number; sum_other_doc_count: number; buckets: Array<{ key: unknown; key_as_string?: string; doc_count: number }> } };
}

/**
 * The `limit` keys of `field` with most documents, most first, ties by key. Exact: when the
 * engine cannot rule out a count error, every key is counted instead.
 */
export async function topTerms(cluster: Cluster, indices: string, query: Query, field: string, limit: number): Promise<Array<{ key: string; count: number }>> {
  const body = {
    size: 0, track_total_hits: false, query,
    aggs: { top: { terms: { field, size: limit, shard_size: Math.max(limit * 10, 1000), order: [{ _count: 'desc' }, { _key: 'asc' }] } } },
  };
  const answer = await cluster.request<TermsAnswer>('POST', `/${indices}/_search?${SEARCH_OPTIONS}`, body);
  const top = answer.body.aggregations?.top;
  if (top === undefined) return [];
  if (top.doc_count_error_upper_bound === 0) {
    return top.buckets.map((b) => ({ key: b.key_as_string ?? String(b.key), count: b.doc_count }));
  }
  const every = await compositeBuckets(cluster, indices, query, [termsSource('key', field)]);
  return every.map((b) => ({ key: String(b.key['key']), count: b.doc_count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, limit);
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

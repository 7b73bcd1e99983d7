/**
 * The firewall feeds' source activity (sourceActivity) on OpenSearch: a window's whole hours are
 * kept counted per source (src/store/kept-hours.ts) and a question counts only its two partial
 * edge hours; when the window moves on, only the hour that came in is counted.
 *
 * Other writers share the cluster (more instances, the original PEBA, `peba import` with old
 * receipt times), so what is kept is tied to each daily index's sequence numbers: the hours of
 * an index are counted from the operations up to its primary's local checkpoint as read then
 * (`_seq_no <= checkpoint`, after a refresh), and each question first reads the checkpoints of
 * the window's indices (one `_stats` request). Where one advanced, the alerts with sequence
 * numbers after the old one that fall into kept hours are fetched and added. When the live
 * documents there are fewer than the operations (a delete, an update, a no-op) or one of them
 * is a new version of an older document, the index's kept hours are dropped and counted again;
 * an index that is gone (retention) drops its hours the same way. Indices of more than one
 * shard (sequence numbers per shard) are not kept: such windows are counted whole.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { DomainScope, SourceActivity, SourceActivityQuery } from '../../domain/query';
import { formatUtc, parseUtc } from '../../domain/time';
import { HOUR, KeptHours } from '../kept-hours';
import { toWholeSeconds } from '../range-split';
import { type Activity, type ActivityBySource, addActivity, alertActivity, answerActivity, countsFor, NO_VALUES } from '../source-activity';
import type { Cluster } from './cluster';
import { readSequenceNumbers } from './sequence-numbers';
import { dayOfIndex, dayPatterns, type IndexNames } from './layout';
import { type CompositeBucket, compositeBuckets, filtered, INDEX_OPTIONS, type Query, scopeFilter, termsSource, timeRange } from './search';

const DAY = 24 * HOUR;

/** What a kept window counts. */
interface Shape {
  readonly scope: DomainScope;
  readonly query: SourceActivityQuery;
}

/** More alerts than this arriving in kept hours of one index between two questions: counted again instead. */
const MAX_FETCHED = 10_000;

/** Raw counts over at most this long (a window's edges, short windows) group by second (see buckets). */
const BY_SECOND_SPAN = 2 * HOUR;

interface FetchAnswer {
  hits: { total: { value: number }; hits: Array<{ _version?: number; _source: Record<string, unknown> }> };
}

export class OpenSearchFeedHours {
  private readonly kept = new KeptHours<Shape>((shape, from, to, deliver) => this.countHours(shape, from, to, deliver));
  /** Per daily index (and its identity): its kept hours hold exactly its operations up to seqNo. */
  private readonly synced = new Map<string, { readonly uuid: string | undefined; readonly seqNo: number }>();
  /** An index of the cluster has several shards (sequence numbers per shard): windows are counted whole. */
  private unkeepable = false;

  /**
   * `field` names the field a question groups on (a `.keyword` sub-field or the field);
   * `largestPage` the largest composite page the cluster answers.
   */
  constructor(private readonly cluster: Cluster, private readonly names: IndexNames,
    private readonly field: (name: 'sourceEntryIp' | 'peerType' | 'peerIdent') => string,
    private readonly largestPage: () => Promise<number>) {}

  /** See AlertStore.sourceActivity. */
  async activity(scope: DomainScope, query: SourceActivityQuery): Promise<SourceActivity[]> {
    const { from, to } = toWholeSeconds(query.range);
    const firstHour = Math.ceil(from / HOUR) * HOUR;
    const endHour = Math.floor(to / HOUR) * HOUR;
    if (endHour <= firstHour || this.unkeepable) return answerActivity(undefined, await this.countRaw(scope, query, [[from, to]]), query);
    const key = `${scope}|${query.peerTypes.join(',')}|${query.family ?? ''}|${endHour - firstHour}`;
    let edges: ActivityBySource = new Map();
    const answer = await this.kept.withWindow(key, { scope, query }, firstHour, endHour,
      (counted) => (this.unkeepable ? undefined : answerActivity(counted, edges, query)),
      async () => {
        const counting = this.countRaw(scope, query, [[from, firstHour], [endHour, to]]);
        if (!(await this.catchUp(firstHour, endHour))) {
          this.unkeepable = true;
          this.synced.clear();
          this.kept.forget();
        }
        edges = await counting;
      });
    return answer ?? answerActivity(undefined, await this.countRaw(scope, query, [[from, to]]), query);
  }

  /**
   * Brings what is kept of the window's daily indices up to their checkpoints; false when an
   * index has more than one shard (nothing of it can be kept).
   */
  private async catchUp(firstHour: number, endHour: number): Promise<boolean> {
    const checkpoints = await this.checkpoints(dayPatterns(this.names, firstHour, endHour));
    if (checkpoints === undefined) return false;
    const days = new Set<number>();
    for (let day = Math.floor(firstHour / DAY) * DAY; day < endHour; day += DAY) days.add(day);
    // An index gone (retention): its day counted again (as what is left).
    for (const index of [...this.synced.keys()]) {
      const day = dayOfIndex(this.names, index);
      if (days.has(day) && !checkpoints.has(index)) {
        this.synced.delete(index);
        this.kept.dropHours(day, day + DAY);
      }
    }
    const advanced: Array<[string, number, number]> = [];
    for (const [index, { uuid, checkpoint }] of checkpoints) {
      const known = this.synced.get(index);
      if (known !== undefined && (known.uuid !== uuid || checkpoint < known.seqNo)) {
        // Deleted and created again under the same name: nothing kept of it holds; counted again.
        const day = dayOfIndex(this.names, index);
        this.kept.dropHours(day, day + DAY);
        advanced.push([index, checkpoint, checkpoint]);
      } else if (checkpoint > (known?.seqNo ?? -1)) {
        advanced.push([index, known?.seqNo ?? -1, checkpoint]);
      }
    }
    if (advanced.length === 0) return true;
    // Every operation up to a checkpoint read above becomes visible to the searches below.
    await this.cluster.request('POST', `/${advanced.map(([index]) => index).join(',')}/_refresh?${INDEX_OPTIONS}`);
    const end = this.kept.endOfKept;
    await Promise.all(advanced.map(async ([index, was, checkpoint]) => {
      const day = dayOfIndex(this.names, index);
      if (was < checkpoint && this.kept.holdsAny(day, day + DAY)) await this.addArrived(index, day, Math.min(day + DAY, end), was, checkpoint);
      this.synced.set(index, { uuid: checkpoints.get(index)!.uuid, seqNo: checkpoint });
    }));
    return true;
  }

  /** Adds the alerts of operations (was, checkpoint] of `index` received in [day, end) to the kept hours, or drops the day's. */
  private async addArrived(index: string, day: number, end: number, was: number, checkpoint: number): Promise<void> {
    const answer = await this.cluster.request<FetchAnswer>('POST', `/${index}/_search?${INDEX_OPTIONS}`, {
      size: MAX_FETCHED, track_total_hits: true, version: true,
      _source: ['recievedTime', 'clientDomain', 'peerType', 'peerIdent', 'sourceEntryIp'],
      query: { range: { _seq_no: { gt: was, lte: checkpoint } } },
      // Every live document of the operations counts in total; only those of kept hours come back.
      post_filter: timeRange('recievedTime', { from: day, to: end }),
    });
    const { total, hits } = answer.body.hits;
    // An ip field without a keyword sub-field groups on the address as the engine prints it, not as sent.
    const asSent = this.field('sourceEntryIp') !== 'sourceEntryIp';
    if (total.value !== checkpoint - was || hits.length >= MAX_FETCHED || !asSent || hits.some((h) => h._version !== 1)) {
      this.kept.dropHours(day, day + DAY);
      return;
    }
    for (const { _source: source } of hits) {
      const doc = {
        recievedTime: String(source['recievedTime']), peerType: String(source['peerType']),
        peerIdent: String(source['peerIdent']), sourceEntryIp: String(source['sourceEntryIp']),
      };
      const community = source['clientDomain'] === true || source['clientDomain'] === 'true';
      this.kept.addLate(Math.floor(parseUtc(doc.recievedTime) / HOUR) * HOUR,
        ({ scope, query }) => (scope === 'both' || (scope === 'community') === community) && countsFor(doc, query),
        doc.sourceEntryIp, alertActivity(doc));
    }
  }

  /** Each daily index's identity and primary local checkpoint; undefined when one has more than one shard. */
  private async checkpoints(patterns: string): Promise<Map<string, { uuid: string | undefined; checkpoint: number }> | undefined> {
    const result = new Map<string, { uuid: string | undefined; checkpoint: number }>();
    for (const [index, { uuid, shardCount, primaries }] of await readSequenceNumbers(this.cluster, patterns)) {
      if (shardCount !== 1) return undefined;
      result.set(index, { uuid, checkpoint: primaries[0]?.localCheckpoint ?? -1 });
    }
    return result;
  }

  /** The question's scope, classes and family as filters. */
  private conditions(scope: DomainScope, query: SourceActivityQuery): Query[] {
    const source = this.field('sourceEntryIp');
    const more: Query[] = [...scopeFilter(scope)];
    if (query.peerTypes.length > 0) more.push({ terms: { [this.field('peerType')]: query.peerTypes } });
    if (query.family !== undefined) {
      // An ip field holds IPv4 as mapped IPv6, which the IPv4 CIDR matches; a keyword one has colons in IPv6 only.
      const ipv4 = source === 'sourceEntryIp' ? { term: { [source]: '0.0.0.0/0' } } : { bool: { must_not: { wildcard: { [source]: '*:*' } } } };
      more.push(query.family === 4 ? ipv4 : { bool: { must_not: ipv4 } });
    }
    return more;
  }

  /**
   * One bucket per (source, class, sensor) (and hour, or none) with only min and max under it, so a page
   * can be as large as search.max_buckets allows; each day's indices asked on their own and at
   * once (bench/README.md, "Firewall feeds over long windows"). `time` 'second' groups by the
   * second of reception too instead (the stored times have whole seconds, so the smallest and
   * largest key are the first and last reception): no sub-aggregation, which is what costs in a
   * composite aggregation (an edge hour of today's index at 1M alerts: 2-4 ms against 40-90 ms
   * with min and max, bench/README.md, "Firewall feeds: where the 7-day list's time went"), but a
   * bucket per alert at worst, so it is used for spans of a few hours only.
   */
  private async buckets(where: Query[], ranges: ReadonlyArray<readonly [number, number]>, time: 'hour' | 'second' | 'none'): Promise<CompositeBucket[]> {
    const missing = { missing_bucket: true };
    const sources = [
      ...(time === 'hour' ? [{ hour: { date_histogram: { field: 'recievedTime', fixed_interval: '1h' } } }] : []),
      termsSource('ip', this.field('sourceEntryIp')),
      { type: { terms: { field: this.field('peerType'), ...missing } } },
      { sensor: { terms: { field: this.field('peerIdent'), ...missing } } },
      ...(time === 'second' ? [{ second: { date_histogram: { field: 'recievedTime', fixed_interval: '1s' } } }] : []),
    ];
    const metrics = time === 'second' ? undefined : { first: { min: { field: 'recievedTime' } }, last: { max: { field: 'recievedTime' } } };
    const page = await this.largestPage();
    const days = [...new Set(ranges.flatMap(([from, to]) => dayPatterns(this.names, from, to).split(',')))];
    return (await Promise.all(days.map((day) => compositeBuckets(this.cluster, day, filtered(...where), sources, metrics, page)))).flat();
  }

  /** The raw alerts of the ranges, per source. */
  private async countRaw(scope: DomainScope, query: SourceActivityQuery, ranges: Array<[number, number]>): Promise<ActivityBySource> {
    const sources: ActivityBySource = new Map();
    const wanted = ranges.filter(([from, to]) => from < to);
    if (wanted.length === 0) return sources;
    const inRanges = { bool: { should: wanted.map(([from, to]) => timeRange('recievedTime', { from, to })), minimum_should_match: 1 } };
    const span = wanted.reduce((total, [from, to]) => total + to - from, 0);
    const buckets = await this.buckets([...this.conditions(scope, query), inRanges], wanted, span <= BY_SECOND_SPAN ? 'second' : 'none');
    for (const b of buckets) addActivity(sources, String(b.key['ip']), toRow(b));
    return sources;
  }

  /** Counts the whole hours of [from, to), each index's operations up to the sequence number its kept hours hold. */
  private async countHours({ scope, query }: Shape, from: number, to: number, deliver: (hour: number, sources: ActivityBySource) => void): Promise<void> {
    const upTo = [...this.synced].map(([index, { seqNo }]) => ({ bool: { filter: [{ term: { _index: index } }, { range: { _seq_no: { lte: seqNo } } }] } }));
    const where = [...this.conditions(scope, query), timeRange('recievedTime', { from, to }), { bool: { should: upTo, minimum_should_match: 1 } }];
    const hours = new Map<number, ActivityBySource>();
    for (let hour = from; hour < to; hour += HOUR) hours.set(hour, new Map());
    // An index not read yet (created since) is left out: its operations are added as they arrive.
    if (upTo.length > 0) {
      for (const b of await this.buckets(where, [[from, to]], 'hour')) addActivity(hours.get(Number(b.key['hour']))!, String(b.key['ip']), toRow(b));
    }
    // What is kept is tied to sequence numbers, not to this turn: other requests run between hours.
    for (const [hour, sources] of hours) {
      deliver(hour, sources);
      await nextTurn();
    }
  }
}

function toRow(b: CompositeBucket): Activity {
  const type = b.key['type'];
  const sensor = b.key['sensor'];
  const second = b.key['second'];
  const first = second === undefined ? formatUtc((b['first'] as { value: number }).value) : formatUtc(Number(second));
  return {
    count: Number(b['doc_count']),
    first,
    last: second === undefined ? formatUtc((b['last'] as { value: number }).value) : first,
    types: type === null || type === undefined ? NO_VALUES : String(type),
    sensors: sensor === null || sensor === undefined ? NO_VALUES : String(sensor),
  };
}

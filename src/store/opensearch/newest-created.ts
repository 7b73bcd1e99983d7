/**
 * The newest createTime each quiet alert index holds, so that "the newest alerts of one source"
 * searches only the indices that can hold them instead of every daily index.
 *
 * Why: the question sorts by createTime, which any daily index may hold (a sensor's clock, an
 * import), so it names every index; the engine asks each shard for its createTime range first
 * and searches the newest shards. That round costs per shard: at 1M alerts over 30 days, 2.5 ms
 * against 0.9 ms for today's index alone (bench/README.md, "the newest alerts of one source"),
 * and it grows with the days kept. A past day's index is rarely written after its day, so its
 * newest createTime is kept here and the question proves from it that the index cannot matter.
 *
 * What is kept is tied to each index's identity and its primaries' sequence numbers, read with
 * one `_stats` request at most once per TRUSTED_FOR_MS: an index whose operations moved since
 * the last reading is `live` (searched by every question) until it is quiet for a reading, then
 * its newest createTime is read again (after a refresh, so every operation counted is visible).
 * This instance's own writes make their indices live at once; another writer's write into a past
 * day's index is seen within TRUSTED_FOR_MS, the engine's default refresh interval, the delay
 * any search already has before it sees a write. Deletes only lower an index's newest
 * createTime: the kept one stays an upper bound, which can only cost a wider search.
 */
import type { Cluster } from './cluster';
import { readSequenceNumbers } from './sequence-numbers';
import { INDEX_OPTIONS } from './search';

/** How long one reading of the indices' sequence numbers is trusted: the engine's default refresh interval. */
export const TRUSTED_FOR_MS = 1000;

export interface CreatedView {
  /** Indices without a kept newest createTime (written lately or not read yet): always searched. */
  readonly live: readonly string[];
  /** The newest createTime (epoch ms) of the quiet indices that hold alerts, newest first. */
  readonly quiet: ReadonlyArray<{ readonly index: string; readonly newest: number }>;
}

interface Kept {
  /** Identity and primaries' sequence numbers when read; MOVING while operations are in flight or after a write of this instance. */
  readonly signature: string;
  /** Newest createTime, null for an index without alerts; undefined while live. */
  newest?: number | null;
}

/** Never equal to a reading: the index stays live until two readings in a row find it quiet. */
const MOVING = 'moving';

export class NewestCreatedByIndex {
  private readonly kept = new Map<string, Kept>();
  private readAt = -Infinity;
  private reading: Promise<void> | undefined;
  /** The last reading failed (no right to read index stats, a node away): no view until the next. */
  private failed = false;
  private view: CreatedView | undefined;

  /** `pattern` names every alert index; `clock` tells the time in epoch ms. */
  constructor(private readonly cluster: Cluster, private readonly pattern: string, private readonly clock: () => number) {}

  /** What is known of the alert indices now; undefined when it cannot be told (search them all). */
  async current(): Promise<CreatedView | undefined> {
    if (this.clock() - this.readAt >= TRUSTED_FOR_MS) {
      this.reading ??= this.read().finally(() => {
        this.reading = undefined;
      });
      await this.reading;
    }
    if (this.failed) return undefined;
    this.view ??= this.viewOfKept();
    return this.view;
  }

  /** This instance writes to these indices: they are live from now on. */
  written(indices: Iterable<string>): void {
    for (const index of indices) {
      if (this.kept.get(index)?.signature === MOVING) continue;
      this.kept.set(index, { signature: MOVING });
      this.view = undefined;
    }
  }

  private viewOfKept(): CreatedView {
    const live: string[] = [];
    const quiet: Array<{ index: string; newest: number }> = [];
    for (const [index, { newest }] of this.kept) {
      if (newest === undefined) live.push(index);
      else if (newest !== null) quiet.push({ index, newest });
    }
    return { live, quiet: quiet.sort((a, b) => b.newest - a.newest) };
  }

  private async read(): Promise<void> {
    const startedAt = this.clock();
    let signatures: Map<string, string>;
    try {
      signatures = await this.signatures();
    } catch {
      this.failed = true;
      this.readAt = startedAt;
      return;
    }
    const toRead: Array<[string, Kept]> = [];
    for (const index of this.kept.keys()) if (!signatures.has(index)) this.kept.delete(index);
    for (const [index, signature] of signatures) {
      const known = this.kept.get(index);
      if (known !== undefined && known.signature === signature && signature !== MOVING) {
        if (known.newest === undefined) toRead.push([index, known]);
        continue;
      }
      // Moved since the last reading (or written here): live. Never seen and quiet: read now.
      const entry: Kept = { signature };
      this.kept.set(index, entry);
      if (known === undefined && signature !== MOVING) toRead.push([index, entry]);
    }
    if (toRead.length > 0) await this.readNewest(toRead);
    this.failed = false;
    this.view = undefined;
    this.readAt = startedAt;
  }

  /** Each alert index's identity and primaries' sequence numbers, MOVING while an operation is in flight. */
  private async signatures(): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    for (const [index, { uuid, shardCount, primaries }] of await readSequenceNumbers(this.cluster, this.pattern)) {
      // A primary not reporting, or operations above its local checkpoint still being processed.
      const moving = primaries.length !== shardCount || primaries.some((p) => p.maxSeqNo !== p.localCheckpoint);
      result.set(index, moving ? MOVING : `${uuid ?? ''}/${primaries.map((p) => `${p.shard}:${p.maxSeqNo}`).join(',')}`);
    }
    return result;
  }

  /**
   * The newest createTime of quiet indices, after a refresh (an operation counted in a signature
   * may not be searchable yet). An entry replaced meanwhile (written here) keeps its new state.
   */
  private async readNewest(entries: ReadonlyArray<[string, Kept]>): Promise<void> {
    const names = entries.map(([index]) => encodeURIComponent(index)).join(',');
    try {
      await this.cluster.request('POST', `/${names}/_refresh?${INDEX_OPTIONS}`);
      const answer = await this.cluster.request<{ aggregations?: { indices?: { buckets: Array<{ key: string; newest: { value: number | null } }> } } }>(
        'POST', `/${names}/_search?${INDEX_OPTIONS}`, {
          size: 0, track_total_hits: false,
          aggs: { indices: { terms: { field: '_index', size: entries.length }, aggs: { newest: { max: { field: 'createTime' } } } } },
        });
      const newest = new Map((answer.body.aggregations?.indices?.buckets ?? []).map((b) => [b.key, b.newest.value]));
      for (const [index, entry] of entries) {
        if (this.kept.get(index) === entry) entry.newest = newest.get(index) ?? null;
      }
    } catch {
      // Left live: searched by every question until a later reading succeeds.
    }
  }
}

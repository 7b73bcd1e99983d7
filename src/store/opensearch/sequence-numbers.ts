/**
 * The sequence numbers of indices' primary shards, read with one `_stats` request: what the live
 * feed, the firewall feeds' kept hours and the newest createTime per index are tied to.
 */
import type { Cluster } from './cluster';
import { INDEX_OPTIONS } from './search';

export interface PrimarySequenceNumbers {
  readonly shard: number;
  /** The highest sequence number issued. */
  readonly maxSeqNo: number;
  /** Every operation up to it is processed. */
  readonly localCheckpoint: number;
}

export interface IndexSequenceNumbers {
  /** The index's identity: a name deleted and created again gets another. */
  readonly uuid: string | undefined;
  readonly shardCount: number;
  /** One per shard whose primary reported, by shard number. */
  readonly primaries: readonly PrimarySequenceNumbers[];
}

interface StatsAnswer {
  indices?: Record<string, { uuid?: string; shards: Record<string, Array<{ routing: { primary: boolean }; seq_no: { max_seq_no: number; local_checkpoint: number } }>> }>;
}

/** Per existing index of `indices` (names or patterns, comma-separated): its primaries' sequence numbers. */
export async function readSequenceNumbers(cluster: Cluster, indices: string): Promise<Map<string, IndexSequenceNumbers>> {
  const answer = await cluster.request<StatsAnswer>('GET',
    `/${indices}/_stats/docs?level=shards&${INDEX_OPTIONS}&filter_path=indices.*.uuid,indices.*.shards.*.routing.primary,indices.*.shards.*.seq_no`);
  const result = new Map<string, IndexSequenceNumbers>();
  for (const [index, { uuid, shards }] of Object.entries(answer.body.indices ?? {})) {
    const primaries: PrimarySequenceNumbers[] = [];
    for (const [shard, copies] of Object.entries(shards)) {
      const seqNo = copies.find((c) => c.routing.primary)?.seq_no;
      if (seqNo !== undefined) primaries.push({ shard: Number(shard), maxSeqNo: seqNo.max_seq_no, localCheckpoint: seqNo.local_checkpoint });
    }
    result.set(index, { uuid, shardCount: Object.keys(shards).length, primaries: primaries.sort((a, b) => a.shard - b.shard) });
  }
  return result;
}

/**
 * Bulk import and export as JSON lines, in the layout of an Elasticsearch export
 * (`{"_id":...,"_source":{...}}`), so data moves between an existing cluster and this store.
 * Alerts go through `storeAlerts`, the normal write path (one `_bulk` per batch on OpenSearch):
 * aggregates and the CVE store are maintained, and ids make a repeated import change nothing.
 * Users and statistics snapshots are the lines whose `_index` is USERINDEX or STATISTICINDEX
 * (what elasticdump writes); one already stored is kept as it is, so a re-import changes nothing.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { AlertRecord } from '../domain/alert';
import type { StoredAlert } from '../domain/query';
import { importDocument } from '../ingest/alert-import';
import { importSideDocument, sideKind, snapshotLine, userLine, type SideIndices } from '../ingest/side-import';
import type { AlertStore } from '../store/store';

export interface ImportCounts {
  /** Lines read so far, blank ones included (line numbers in messages count them too). */
  readonly lines: number;
  readonly imported: number;
  /** Alerts whose id was already stored, left as they were. */
  readonly duplicates: number;
  /** Malformed lines, each reported through onMalformed. */
  readonly skipped: number;
  readonly usersImported: number;
  /** Users of that peerName already stored, kept as they were (identical or not). */
  readonly usersPresent: number;
  readonly snapshotsImported: number;
  /** Snapshots of that start already stored, kept as they were. */
  readonly snapshotsPresent: number;
}

export interface ImportResult extends ImportCounts {
  /** Top-level document fields outside the alert model, which were dropped. */
  readonly unknownFields: readonly string[];
}

export interface ImportOptions {
  /** Alerts per `storeAlerts` call (one transaction each). */
  readonly batchSize?: number;
  readonly onMalformed?: (line: number, reason: string) => void;
  readonly onProgress?: (counts: ImportCounts) => void;
  readonly progressIntervalMs?: number;
  /** Lines of these `_index` names are users and snapshots; default the original's names. */
  readonly indices?: SideIndices;
}

export const DEFAULT_SIDE_INDICES: SideIndices = { users: 'users', statistics: 'statistics' };

export const DEFAULT_IMPORT_BATCH = 2000;
/** Dropped field names reported at most; a broken export could have thousands. */
const MAX_UNKNOWN_FIELDS = 50;

/** Streams JSON lines from `input` into the store; never holds more than one batch. */
export async function importAlerts(store: AlertStore, input: Readable, options: ImportOptions = {}): Promise<ImportResult> {
  const batchSize = options.batchSize ?? DEFAULT_IMPORT_BATCH;
  const progressMs = options.progressIntervalMs ?? 500;
  let lines = 0;
  let imported = 0;
  let duplicates = 0;
  let skipped = 0;
  let usersImported = 0;
  let usersPresent = 0;
  let snapshotsImported = 0;
  let snapshotsPresent = 0;
  const indices = options.indices ?? DEFAULT_SIDE_INDICES;
  const unknownFields = new Set<string>();
  let batch: AlertRecord[] = [];
  let lastProgress = Date.now();
  const counts = (): ImportCounts => ({ lines, imported, duplicates, skipped, usersImported, usersPresent, snapshotsImported, snapshotsPresent });
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const outcome = await store.storeAlerts(batch);
    imported += outcome.inserted;
    duplicates += outcome.duplicates;
    batch = [];
  };
  const malformed = (reason: string): void => {
    skipped++;
    options.onMalformed?.(lines, reason);
  };

  const reader = createInterface({ input, crlfDelay: Infinity });
  for await (const raw of reader) {
    lines++;
    const line = lines === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() !== '') {
      let value: unknown;
      let parsed = true;
      try {
        value = JSON.parse(line);
      } catch (error) {
        parsed = false;
        malformed(`invalid JSON (${(error as Error).message})`);
      }
      const kind = parsed ? sideKind(value, indices) : undefined;
      if (kind !== undefined) {
        const side = importSideDocument(value as Record<string, unknown>, kind);
        if (!side.ok) {
          malformed(side.reason);
        } else if (side.kind === 'user') {
          // Replace-or-keep: a user already there keeps its token, so a re-import (or an import
          // into a cluster where the token was changed since) never overwrites it.
          if (await store.getUser(side.user.peerName)) {
            usersPresent++;
          } else {
            await store.putUser(side.user);
            usersImported++;
          }
        } else if ((await store.listStatisticsSnapshots(side.snapshot.from, side.snapshot.from)).some((s) => s.from === side.snapshot.from)) {
          snapshotsPresent++;
        } else {
          await store.putStatisticsSnapshot(side.snapshot);
          snapshotsImported++;
        }
      } else if (parsed) {
        const result = importDocument(value);
        if (result.ok) {
          batch.push(result.record);
          for (const field of result.unknownFields) if (unknownFields.size < MAX_UNKNOWN_FIELDS) unknownFields.add(field);
          if (batch.length >= batchSize) await flush();
        } else {
          malformed(result.reason);
        }
      }
    }
    if (options.onProgress && Date.now() - lastProgress >= progressMs) {
      lastProgress = Date.now();
      options.onProgress(counts());
    }
  }
  await flush();
  options.onProgress?.(counts());
  return { ...counts(), unknownFields: [...unknownFields].sort() };
}

/** One export line: the hit layout an Elasticsearch export writes, importable again. */
export function exportLine(alert: StoredAlert): string {
  return `${JSON.stringify({ _id: alert.id, _source: alert.document })}\n`;
}

export interface ExportCounts {
  readonly alerts: number;
  readonly users: number;
  readonly snapshots: number;
}

/** Snapshot starts span at most this text range; the two ends every store compares against. */
const FIRST_START = '0001-01-01 00:00:00';
const LAST_START = '9999-12-31 23:59:59';

/**
 * Every stored snapshot, oldest first, page by page: a store may answer a range with a bounded
 * number (OpenSearch: 10,000), so each page starts at the last start seen.
 */
async function* allSnapshots(store: AlertStore) {
  let from = FIRST_START;
  let last: string | undefined;
  for (;;) {
    const page = (await store.listStatisticsSnapshots(from, LAST_START)).filter((s) => last === undefined || s.from > last);
    if (page.length === 0) return;
    yield* page;
    last = page.at(-1)!.from;
    from = last;
  }
}

/** Writes the lines to `output`, honouring back-pressure, failing on the output's error. */
async function writeLines(output: Writable, lines: AsyncIterable<string>): Promise<void> {
  let failure: Error | undefined;
  const onError = (error: Error): void => {
    failure = error;
  };
  output.on('error', onError);
  try {
    for await (const line of lines) {
      if (failure) throw failure;
      if (!output.write(line)) await once(output, 'drain');
    }
    if (failure) throw failure;
  } finally {
    output.off('error', onError);
  }
}

/**
 * Writes every user (`indices.users` lines), statistics snapshot (`indices.statistics`) and
 * alert (plain hits, as before) as JSON lines; returns how many of each.
 */
export async function exportAll(store: AlertStore, output: Writable, indices: SideIndices = DEFAULT_SIDE_INDICES): Promise<ExportCounts> {
  const counts = { alerts: 0, users: 0, snapshots: 0 };
  await writeLines(output, (async function* () {
    for (const user of await store.listUsers()) {
      counts.users++;
      yield userLine(indices.users, user);
    }
    for await (const snapshot of allSnapshots(store)) {
      counts.snapshots++;
      yield snapshotLine(indices.statistics, snapshot);
    }
    for await (const alert of store.exportAlerts()) {
      counts.alerts++;
      yield exportLine(alert);
    }
  })());
  return counts;
}

/** Writes every stored alert as a JSON line, honouring back-pressure; returns how many. */
export async function exportAlerts(store: AlertStore, output: Writable): Promise<number> {
  let count = 0;
  await writeLines(output, (async function* () {
    for await (const alert of store.exportAlerts()) {
      count++;
      yield exportLine(alert);
    }
  })());
  return count;
}

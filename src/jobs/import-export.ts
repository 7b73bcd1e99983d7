/**
 * Bulk import and export of alerts as JSON lines, in the layout of an Elasticsearch export
 * (`{"_id":...,"_source":{...}}`), so data moves between an existing `ews-*` index and this store.
 * Import goes through `storeAlerts`, the normal write path: aggregates and the CVE store are
 * maintained, and ids make a repeated import change nothing.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { AlertRecord } from '../domain/alert';
import type { StoredAlert } from '../domain/query';
import { importDocument } from '../ingest/alert-import';
import type { AlertStore } from '../store/store';

export interface ImportCounts {
  /** Lines read so far, blank ones included (line numbers in messages count them too). */
  readonly lines: number;
  readonly imported: number;
  /** Alerts whose id was already stored, left as they were. */
  readonly duplicates: number;
  /** Malformed lines, each reported through onMalformed. */
  readonly skipped: number;
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
}

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
  const unknownFields = new Set<string>();
  let batch: AlertRecord[] = [];
  let lastProgress = Date.now();
  const counts = (): ImportCounts => ({ lines, imported, duplicates, skipped });
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
      if (parsed) {
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

/** Writes every stored alert as a JSON line, honouring back-pressure; returns how many. */
export async function exportAlerts(store: AlertStore, output: Writable): Promise<number> {
  let count = 0;
  let failure: Error | undefined;
  const onError = (error: Error): void => {
    failure = error;
  };
  output.on('error', onError);
  try {
    for await (const alert of store.exportAlerts()) {
      if (failure) throw failure;
      count++;
      if (!output.write(exportLine(alert))) await once(output, 'drain');
    }
    if (failure) throw failure;
  } finally {
    output.off('error', onError);
  }
  return count;
}

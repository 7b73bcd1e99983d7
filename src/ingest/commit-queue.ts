/**
 * Group commit: messages that finish parsing in the same turn of the event loop are written in
 * one store transaction, so concurrent senders share one fsync. Each caller still learns only
 * when its own alerts are committed.
 */
import type { AlertRecord } from '../domain/alert';
import type { AlertStore } from '../store/store';

interface Pending {
  readonly records: readonly AlertRecord[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class CommitQueue {
  private pending: Pending[] = [];
  private flushing = false;

  constructor(private readonly store: AlertStore) {}

  /** Resolves once `records` are durably stored; rejects if the store failed them. */
  commit(records: readonly AlertRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pending.push({ records, resolve, reject });
      if (this.pending.length === 1 && !this.flushing) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      await this.write(group);
    }
    this.flushing = false;
  }

  private async write(group: Pending[]): Promise<void> {
    try {
      await this.store.storeAlerts(group.length === 1 ? group[0]!.records : group.flatMap((p) => p.records));
      for (const p of group) p.resolve();
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      // Retry one by one so that a message that cannot be stored fails alone.
      for (const p of group) await this.write([p]);
    }
  }
}

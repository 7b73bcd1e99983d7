/**
 * Follows the alerts stored by every instance sharing the store (store.alertsStoredAfter) and
 * hands each batch to a listener. A local commit nudges it to look at once; a timer looks for
 * what other instances stored. It only polls while someone listens, and a gap (no listener,
 * an error) restarts from "now": a live stream has no backlog to catch up on.
 */
import type { StoredAlert } from '../domain/query';
import { parseUtc } from '../domain/time';
import type { AlertStore } from '../store/store';

export interface ArrivalFeedOptions {
  /** How often to look for alerts stored by other instances (or `peba import`), ms. */
  readonly pollMs: number;
  /** Most alerts read per look; more are read on the next turn. */
  readonly pageSize?: number;
  /** Alerts received longer ago than this (an import of old data) are not live: skipped. */
  readonly maxAgeMs?: number;
  readonly onError?: (error: unknown) => void;
}

export class ArrivalFeed {
  private cursor: string | null = null;
  private active = false;
  private reading = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly store: AlertStore,
    private readonly listener: (alerts: readonly StoredAlert[]) => void,
    private readonly options: ArrivalFeedOptions,
  ) {}

  /** Whether anyone listens: the feed polls only then. */
  setActive(active: boolean): void {
    if (active === this.active || this.stopped) return;
    this.active = active;
    if (active) {
      this.cursor = null;
      this.nudge();
    } else {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Something was stored here: look now (never blocks the caller). */
  nudge(): void {
    if (!this.active || this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    setImmediate(() => void this.read());
  }

  stop(): void {
    this.stopped = true;
    this.active = false;
    clearTimeout(this.timer);
  }

  private async read(): Promise<void> {
    if (this.reading || !this.active) return;
    this.reading = true;
    this.again = false;
    let full = false;
    try {
      const pageSize = this.options.pageSize ?? 1000;
      const arrivals = await this.store.alertsStoredAfter(this.cursor, pageSize);
      this.cursor = arrivals.cursor;
      full = arrivals.alerts.length >= pageSize;
      const oldest = Date.now() - (this.options.maxAgeMs ?? 600_000);
      const live = arrivals.alerts.filter((a) => parseUtc(a.document.recievedTime) >= oldest);
      if (live.length > 0 && this.active) this.listener(live);
    } catch (error) {
      this.cursor = null;
      this.options.onError?.(error);
    } finally {
      this.reading = false;
    }
    if (!this.active) return;
    if (this.again || full) this.nudge();
    else this.timer = setTimeout(() => void this.read(), this.options.pollMs).unref();
  }
}

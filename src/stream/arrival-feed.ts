/**
 * Follows the alerts stored by every instance sharing the store (store.alertsStoredAfter) and
 * hands each batch to a listener. A local commit nudges it to look soon (at most once per
 * `minIntervalMs`); a timer looks for what other instances stored. Each look reads at most one
 * page: when more arrived than a page holds (more than the stream will send anyway), it goes on
 * from "now", so its cost does not grow with the ingest rate. It only polls while someone
 * listens, and a gap (no listener, an error) also restarts from "now": a live stream has no
 * backlog to catch up on.
 */
import type { StoredAlert } from '../domain/query';
import { parseUtc } from '../domain/time';
import type { AlertStore } from '../store/store';

export interface ArrivalFeedOptions {
  /** How often to look for alerts stored by other instances (or `peba import`), ms. */
  readonly pollMs: number;
  /** Most alerts read per look; beyond them the next look starts from "now". */
  readonly pageSize?: number;
  /** Looks at most this often however often it is nudged, ms. */
  readonly minIntervalMs?: number;
  /** Alerts received longer ago than this (an import of old data) are not live: skipped. */
  readonly maxAgeMs?: number;
  readonly onError?: (error: unknown) => void;
  /** Told after every look at the store, with the number of alerts it read. */
  readonly onRead?: (count: number) => void;
}

export class ArrivalFeed {
  private cursor: string | null = null;
  private active = false;
  private reading = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastRead = 0;
  /** Counts listening periods: a look begun in an earlier one must not move the cursor of this one. */
  private period = 0;

  constructor(
    private readonly store: AlertStore,
    private readonly listener: (alerts: readonly StoredAlert[]) => void,
    private readonly options: ArrivalFeedOptions,
  ) {}

  /** Whether anyone listens: the feed polls only then. */
  setActive(active: boolean): void {
    if (active === this.active || this.stopped) return;
    this.active = active;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!active) return;
    // The starting point is read at once, not after minIntervalMs: every alert stored from the
    // moment someone listens must reach them.
    this.cursor = null;
    this.period++;
    void this.read();
  }

  /** Something was stored here: look now (never blocks the caller). */
  nudge(): void {
    if (!this.active || this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    const wait = this.lastRead + (this.options.minIntervalMs ?? 0) - Date.now();
    this.timer = wait > 0 ? setTimeout(() => void this.read(), wait).unref() : undefined;
    if (wait <= 0) setImmediate(() => void this.read());
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
    this.lastRead = Date.now();
    const period = this.period;
    try {
      const pageSize = this.options.pageSize ?? 1000;
      const arrivals = await this.store.alertsStoredAfter(this.cursor, pageSize);
      // A full page: more arrived than the stream sends; skip the rest rather than read it all.
      const cursor = arrivals.alerts.length >= pageSize ? (await this.store.alertsStoredAfter(null, 0)).cursor : arrivals.cursor;
      if (period === this.period) {
        this.cursor = cursor;
        const oldest = Date.now() - (this.options.maxAgeMs ?? 600_000);
        const live = arrivals.alerts.filter((a) => parseUtc(a.document.recievedTime) >= oldest);
        if (live.length > 0 && this.active) this.listener(live);
        this.options.onRead?.(arrivals.alerts.length);
      }
    } catch (error) {
      if (period === this.period) this.cursor = null;
      this.options.onError?.(error);
    } finally {
      this.reading = false;
    }
    if (!this.active) return;
    // Someone started listening again while this look was under way: their starting point now.
    if (period !== this.period) void this.read();
    else if (this.again) this.nudge();
    else this.timer = setTimeout(() => void this.read(), this.options.pollMs).unref();
  }
}

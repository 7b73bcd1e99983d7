/**
 * The live ticker: newest alerts first, a bounded number of rows. Alerts that arrive in a burst
 * are added once per animation frame (and at most ROWS of them), so the page does a bounded
 * amount of DOM work however fast the stream runs. Paused, it keeps the newest arrivals aside
 * (bounded too) and shows them when resumed.
 */
import type { TickerAlert } from './api';
import { classOf, colourOf } from './classes';
import { byId, el, unescapeHtml } from './dom';

const ROWS = 40;
/** New rows per frame: at hundreds of alerts a second nobody reads them all, and each row costs layout. */
const ROWS_PER_FRAME = 12;

export class Ticker {
  private readonly list = byId<HTMLOListElement>('ticker');
  private readonly pauseButton = byId<HTMLButtonElement>('ticker-pause');
  private readonly classFilter = byId<HTMLSelectElement>('ticker-class');
  private readonly countryFilter = byId<HTMLSelectElement>('ticker-country');
  private readonly queuedNote = byId('ticker-queued');
  private paused = false;
  private pending: TickerAlert[] = [];
  private held = 0;
  private frame = 0;
  private readonly classes = new Set<string>();
  private readonly countries = new Map<string, string>();
  /** Shown rows and their alerts, newest first, to filter again without the server. */
  private shown: TickerAlert[] = [];
  /** Rows the next frame may add: all of a fresh list, a few of a live burst. */
  private rowsNextFrame = ROWS;

  constructor(private readonly showSources: () => boolean) {
    this.pauseButton.addEventListener('click', () => this.setPaused(!this.paused));
    this.classFilter.addEventListener('change', () => this.rerender());
    this.countryFilter.addEventListener('change', () => this.rerender());
  }

  /** Replaces the content (first load, or a change of data domain). */
  reset(alerts: readonly TickerAlert[]): void {
    this.pending = [];
    this.shown = [];
    this.rowsNextFrame = ROWS;
    this.add(alerts);
  }

  /** Newest last, as they arrive. */
  add(alerts: readonly TickerAlert[]): void {
    for (const alert of alerts) this.learn(alert);
    this.pending.push(...alerts);
    if (this.pending.length > ROWS * 4) this.pending.splice(0, this.pending.length - ROWS * 4);
    if (this.paused) {
      this.held += alerts.length;
      this.queuedNote.textContent = `${this.held} new while paused`;
      return;
    }
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.flush());
  }

  private setPaused(paused: boolean): void {
    this.paused = paused;
    this.pauseButton.textContent = paused ? 'Resume' : 'Pause';
    this.pauseButton.setAttribute('aria-pressed', String(paused));
    if (!paused) {
      this.held = 0;
      this.queuedNote.textContent = '';
      if (this.frame === 0) this.frame = requestAnimationFrame(() => this.flush());
    }
  }

  private flush(): void {
    this.frame = 0;
    const batch = this.pending.slice(-ROWS);
    this.pending = [];
    this.shown = [...batch.reverse(), ...this.shown].slice(0, ROWS * 3);
    const rows = batch.filter((a) => this.matches(a)).slice(0, this.rowsNextFrame).map((a) => this.rowOf(a));
    this.rowsNextFrame = ROWS_PER_FRAME;
    if (rows.length === 0) return;
    this.list.prepend(...rows);
    while (this.list.childElementCount > ROWS) this.list.lastElementChild!.remove();
    this.list.dispatchEvent(new CustomEvent('alerts', { detail: { ids: batch.map((a) => a.id) } }));
  }

  private rerender(): void {
    this.list.replaceChildren(...this.shown.filter((a) => this.matches(a)).slice(0, ROWS).map((a) => this.rowOf(a)));
  }

  private matches(alert: TickerAlert): boolean {
    const wantedClass = this.classFilter.value;
    const wantedCountry = this.countryFilter.value;
    return (wantedClass === '' || classOf(alert.analyzerType) === wantedClass) && (wantedCountry === '' || alert.country === wantedCountry);
  }

  /** Adds classes and countries it has not seen to the filters. */
  private learn(alert: TickerAlert): void {
    const cls = classOf(alert.analyzerType);
    if (!this.classes.has(cls)) {
      this.classes.add(cls);
      insertSorted(this.classFilter, cls, cls);
    }
    if (!this.countries.has(alert.country)) {
      this.countries.set(alert.country, alert.countryName);
      insertSorted(this.countryFilter, alert.country, `${alert.countryName} (${alert.country})`);
    }
  }

  private rowOf(alert: TickerAlert): HTMLLIElement {
    const item = el('li');
    item.dataset['id'] = alert.id;
    const chip = el('span', classOf(alert.analyzerType), 'chip');
    chip.style.borderColor = colourOf(alert.analyzerType);
    chip.title = alert.analyzerType;
    const time = el('time', alert.dateCreated.slice(11), 'time');
    time.dateTime = `${alert.dateCreated.replace(' ', 'T')}Z`;
    const route = el('span', `${alert.country} → ${alert.targetCountry}`, 'route');
    route.title = `from ${alert.countryName}`;
    item.append(time, chip, route);
    if (this.showSources() && alert.sourceEntryIp) item.append(el('span', alert.sourceEntryIp, 'source'));
    item.append(el('span', unescapeHtml(alert.requestString), 'request'));
    return item;
  }
}

function insertSorted(select: HTMLSelectElement, value: string, label: string): void {
  const option = el('option', label);
  option.value = value;
  const after = [...select.options].slice(1).find((o) => o.textContent!.localeCompare(label) > 0);
  select.insertBefore(option, after ?? null);
}

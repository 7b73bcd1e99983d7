/** The dashboard: public panels for everyone, the operator's on top after sign-in, one live stream. */
import './style.css';
import { getJson, withScope, type TickerAlert } from './api';
import { KNOWN_CLASSES } from './classes';
import { colourOf } from './classes';
import { byId, el } from './dom';
import { currentUser, setUpOperatorControls, setUpSignIn, showBadIps, showSensors } from './operator';
import { showCounters, showCountries, showPerDay, showTops, showTpotStats } from './public-panels';
import { Ticker } from './ticker';
import { WorldMap } from './world-map';

const SECOND = 1000;
/**
 * The stream sends a batch at most once a second; the map spreads a batch's arcs over at most
 * this long, in the order they were stored, instead of drawing them all in one frame. Half the
 * interval: an alert stored just after a batch waits up to 1 s for the next, so it still
 * appears within 2 s (1 s + 0.5 s at worst).
 */
const SPREAD_MS = 500;
/** Most arcs of one batch (the map keeps no more alive anyway). */
const MAX_ARRIVING = 300;

let user: string | null = null;
let stream: EventSource | null = null;
const timers: number[] = [];

const scopeSelect = byId<HTMLSelectElement>('scope');
/** The public view always shows community data; the operator chooses. */
const scope = (): string => (user === null ? '' : scopeSelect.value);
const inScope = (alert: TickerAlert): boolean => {
  const s = scope();
  return s === '-1' || (s === '0' ? !alert.clientDomain : alert.clientDomain);
};

const map = new WorldMap(byId('map'));
const ticker = new Ticker(() => user !== null);

/** Alerts of the batch arriving now (the events before the next frame). */
let arriving: TickerAlert[] = [];
let lastBatch = 0;

function drawArriving(): void {
  const now = performance.now();
  // A batch that follows another closely (a busy page) gets a shorter spread, so none piles up.
  const spread = Math.min(SPREAD_MS, now - lastBatch);
  lastBatch = now;
  arriving.forEach((alert, i) => {
    const from: [number, number] = [Number(alert.sourceLng), Number(alert.sourceLat)];
    const to: [number, number] = [Number(alert.destLng), Number(alert.destLat)];
    map.addArc(alert.id, from, to, alert.analyzerType, (i * spread) / arriving.length);
  });
  arriving = [];
}

function report(error: unknown): void {
  console.warn(error);
}

/** Runs `task` now and every `ms`; a failure is shown in the status line, the next run tries again. */
function every(ms: number, task: () => Promise<void>): void {
  const run = (): void => void task().catch(report);
  run();
  timers.push(window.setInterval(run, ms));
}

function connect(): void {
  stream?.close();
  const status = byId('stream-status');
  status.textContent = 'connecting…';
  stream = new EventSource(user === null ? '/dashboard/stream' : '/dashboard/stream?view=operator');
  stream.addEventListener('open', () => { status.textContent = 'live'; });
  stream.addEventListener('error', () => { status.textContent = 'reconnecting…'; });
  // Above the stream's rate only a sample is sent: say how many were not shown.
  let skipped = 0;
  stream.addEventListener('skipped', (event) => {
    skipped += Number((event as MessageEvent<string>).data) || 0;
    status.textContent = `live (busy: ${skipped.toLocaleString('en-US')} alerts not drawn)`;
  });
  stream.addEventListener('alert', (event) => {
    const alert = JSON.parse((event as MessageEvent<string>).data) as TickerAlert;
    if (!inScope(alert)) return;
    ticker.add([alert]);
    if (arriving.length >= MAX_ARRIVING) arriving.shift();
    if (arriving.push(alert) === 1) requestAnimationFrame(drawArriving);
  });
}

async function loadTicker(): Promise<void> {
  const path = user === null ? '/alert/retrieveAlertsJson' : '/dashboard/operator/newest';
  const answer = await getJson<{ alerts: TickerAlert[] }>(withScope(path, scope()));
  ticker.reset([...answer.alerts].reverse());
}

/** (Re)starts every panel for the current user and data domain. */
function start(): void {
  for (const timer of timers.splice(0)) clearInterval(timer);
  byId('operator').hidden = user === null;
  byId('sign-in-open').hidden = user !== null;
  byId('signed-in').hidden = user === null;
  byId('signed-in-name').textContent = user ?? '';
  void loadTicker().catch(report);
  connect();
  every(15 * SECOND, () => showCounters(scope()));
  every(600 * SECOND, () => showCountries(scope(), map));
  every(600 * SECOND, () => showPerDay(scope()));
  every(600 * SECOND, () => showTops(scope()));
  if (user !== null) {
    every(30 * SECOND, () => showBadIps(scope()));
    every(30 * SECOND, () => showSensors(scope()));
  }
}

function legend(): void {
  byId('legend').replaceChildren(...[...KNOWN_CLASSES, 'other'].map((cls) => {
    const item = el('li', cls);
    const swatch = el('span', undefined, 'swatch');
    swatch.style.background = colourOf(`${cls}(`);
    item.prepend(swatch);
    return item;
  }));
}

async function main(): Promise<void> {
  legend();
  setUpSignIn((signedIn) => {
    user = signedIn;
    scopeSelect.value = '';
    start();
  });
  setUpOperatorControls(scope);
  scopeSelect.addEventListener('change', () => start());
  byId('tops-days').addEventListener('change', () => void showTops(scope()).catch(report));
  byId('tpot-day').addEventListener('change', () => void showTpotStats().catch(report));
  void showTpotStats().catch(report);
  void map.load(document.body.dataset['map'] ?? '').catch(report);
  user = await currentUser().catch(() => null);
  start();
}

void main();

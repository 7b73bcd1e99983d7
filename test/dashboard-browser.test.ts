/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard in a real browser: Debian's Chromium, headless, driven by playwright-core. The
 * page loads cleanly (no console error, failed request, other host or CSP violation), shows the
 * API's numbers, draws a posted alert in the ticker and on the map within 2 s, shows
 * attacker-controlled strings as text, never shows a source address publicly, signs an operator
 * in (and a wrong token out), can be used with the keyboard, and fits 1280x800 and 390x844.
 * Screenshots go to PEBA_SCREENSHOTS (a directory) when set, else to a temporary directory.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AttackGenerator } from '../src/demo/attack-generator';
import { addPrivateUser, alertXml, COMMUNITY, ewsMessage, OK_REPLY, postMessage, startApp, type RunningApp } from './helpers';
import { openEventStream } from './event-stream';

const CHROMIUM = process.env['PEBA_CHROMIUM'] ?? '/usr/bin/chromium';
const XSS_IMG = '<img src=x onerror=alert(1)>';
const XSS_SCRIPT = '<script>window.__xss=1</script>';
const LIVE_MS = 2000;
/** Alerts of the 20 earlier days: 5 + (7 day mod 13) each. */
const HISTORY = Array.from({ length: 20 }, (_, i) => 5 + (((i + 1) * 7) % 13)).reduce((a, b) => a + b, 0);

interface Observed {
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: string[];
  badResponses: string[];
  otherHosts: string[];
  dialogs: string[];
}

/** Numbers as the page formats them (1,234) back to numbers. */
const numberOf = (text: string | null): number => Number((text ?? '').replace(/,/g, ''));

function xssMessage(request: string, source: string): string {
  const escaped = request.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return ewsMessage([alertXml({ analyzer: 'tanner-community-01', source, targetPort: '80', requests: { url: encodeURIComponent(escaped).replace(/%26(amp|lt|gt)%3B/g, '&$1;') } })]);
}

describe('dashboard in Chromium', { timeout: 180_000 }, () => {
  let running: RunningApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let user: { username: string; token: string };
  const sources = new Set<string>();
  const privateSources = new Set<string>();
  const observed: Observed = { consoleErrors: [], pageErrors: [], failedRequests: [], badResponses: [], otherHosts: [], dialogs: [] };
  const shots = process.env['PEBA_SCREENSHOTS'] ?? join(tmpdir(), 'peba-dashboard-screenshots');

  const post = async (body: string): Promise<void> => {
    for (const match of body.matchAll(/<Source [^>]*>([^<]+)<\/Source>/g)) sources.add(match[1]!);
    assert.equal((await postMessage(running.url, body)).text, OK_REPLY);
  };
  const api = async (path: string): Promise<unknown> => (await fetch(running.url + path)).json();

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (Debian: apt-get install chromium)`);
    // The bundled GeoIP data, so the generated sources land all over the map; answers cached as in production.
    running = await startApp({ GEOIP_CITY: '', GEOIP_ASN: '', CACHE: 'on' });
    user = await addPrivateUser(running, 'operator', 'Operat0r-Token-1');
    const generator = new AttackGenerator(7);
    for (let i = 0; i < 12; i++) await post(generator.message(40, COMMUNITY));
    // Attacks created on earlier days (sensors that send late), for the per-day chart.
    for (let day = 1; day <= 20; day++) await post(generator.message(5 + ((day * 7) % 13), COMMUNITY, Date.now() - day * 86_400_000));
    const privateMessage = generator.message(20, user);
    for (const match of privateMessage.matchAll(/<Source [^>]*>([^<]+)<\/Source>/g)) privateSources.add(match[1]!);
    await post(privateMessage);
    await post(xssMessage(XSS_IMG, '81.2.69.142'));
    await post(xssMessage(XSS_SCRIPT, '81.2.69.143'));

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    const origin = new URL(running.url).origin;
    page.on('console', (message) => { if (message.type() === 'error') observed.consoleErrors.push(message.text()); });
    page.on('pageerror', (error) => observed.pageErrors.push(error.message));
    page.on('requestfailed', (request) => observed.failedRequests.push(`${request.url()} ${request.failure()?.errorText}`));
    page.on('response', (response) => { if (response.status() >= 400) observed.badResponses.push(`${response.status()} ${response.url()}`); });
    page.on('request', (request) => { if (new URL(request.url()).origin !== origin) observed.otherHosts.push(request.url()); });
    page.on('dialog', (dialog) => { observed.dialogs.push(dialog.message()); void dialog.dismiss(); });
    await page.addInitScript(() => {
      const w = window as unknown as { __csp: string[]; __arcs: string[] };
      w.__csp = [];
      w.__arcs = [];
      document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
      // Captured on the way down, so the map's (non-bubbling) arc events are seen here.
      document.addEventListener('arc', (e) => w.__arcs.push((e as CustomEvent<{ id: string }>).detail.id), true);
    });
    mkdirSync(shots, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await running?.close();
  });

  it('loads with no console error, failed request, request to another host or CSP violation', async () => {
    await page.goto(`${running.url}/`);
    await page.waitForFunction(() => document.querySelectorAll('#map path.country').length > 100
      && document.querySelector('#count-24h')!.textContent !== '–'
      && document.querySelectorAll('#ticker li').length > 0
      && document.querySelectorAll('#per-day g[data-day]').length > 0
      && document.querySelectorAll<HTMLTableRowElement>('#top-urls tr').length > 0
      && document.querySelectorAll('#tpot-totals .counter').length === 3
      && document.querySelector('#stream-status')!.textContent === 'live');
    assert.deepEqual(observed, { consoleErrors: [], pageErrors: [], failedRequests: [], badResponses: [], otherHosts: [], dialogs: [] });
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp), []);
    // Shaded: countries with attacks this month are not in the no-data colour.
    assert.ok(await page.evaluate(() => [...document.querySelectorAll('#map path.country')].some((p) => p.getAttribute('fill') !== '#243447')));
  });

  it('shows the numbers the API answers', async () => {
    const stats = (await api('/alert/retrieveAlertStats')) as Record<string, number>;
    const counters = await page.evaluate(() => ['1m', '5m', '1h', '24h'].map((k) => document.getElementById(`count-${k}`)!.textContent));
    assert.deepEqual(counters.map(numberOf), [stats['AlertsLastMinute'], stats['AlertsLast5Minutes'], stats['AlertsLastHour'], stats['AlertsLast24Hours']]);
    assert.equal(stats['AlertsLast24Hours'], 482 + HISTORY, 'the community alerts posted');

    const [month] = (await api('/alert/topCountriesAttacks?topx=300')) as Array<{ attacksPerCountry: Array<{ code: string; country: string; count: number }> }>;
    const sourceRows = await page.evaluate(() => [...document.querySelectorAll('#top-sources tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.deepEqual(sourceRows, month!.attacksPerCountry.slice(0, 10).map((c) => [`${c.country} (${c.code})`, c.count.toLocaleString('en-US')]));

    const [perDay] = (await api('/alert/datasetAlertTypesPerMonth')) as Array<{ datasetAlertsPerMonth: Record<string, Record<string, number>> }>;
    const bars = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll<SVGGElement>('#per-day g[data-day]')].map((g) => [g.dataset['day'], Number(g.dataset['total'])])));
    assert.deepEqual(bars, Object.fromEntries(Object.entries(perDay!.datasetAlertsPerMonth).map(([day, types]) => [day.slice(0, 10), Object.values(types).reduce((a, b) => a + b, 0)])));

    const urls = (await api('/alert/tops?type=urls&topx=10&days=1')) as Record<string, { total: number }>;
    const urlRows = await page.evaluate(() => [...document.querySelectorAll<HTMLTableRowElement>('#top-urls tr')].map((tr) => [tr.cells[0]!.textContent, tr.cells[1]!.textContent]));
    assert.deepEqual(urlRows, Object.entries(urls).map(([url, timeline]) => [url.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'), timeline.total.toLocaleString('en-US')]));

    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    const tpot = (await api(`/alert/TpotStats?day=${day}`)) as { communityHoneypots: Record<string, number> };
    const totals = await page.evaluate(() => [...document.querySelectorAll('#tpot-totals .counter .value')].map((v) => v.textContent));
    assert.deepEqual(totals.map(numberOf), [tpot.communityHoneypots['totalNumberAlerts'], tpot.communityHoneypots['totalNumberHoneypots'], tpot.communityHoneypots['totalNumberDaemons']]);
  });

  it('shows attacker-controlled strings as text and runs nothing', async () => {
    // Posted now, so they arrive by the stream (the initial ticker list holds the newest second's
    // alerts in no particular order, and that second may hold more than it shows).
    await post(xssMessage(XSS_IMG, '81.2.69.146'));
    await post(xssMessage(XSS_SCRIPT, '81.2.69.147'));
    await page.waitForFunction((wanted) => {
      const shown = [...document.querySelectorAll('#ticker .request')].map((e) => e.textContent);
      return wanted.every((w) => shown.includes(w));
    }, [XSS_IMG, XSS_SCRIPT], { timeout: LIVE_MS });
    assert.equal(await page.evaluate(() => document.querySelectorAll('main img, main script, #ticker *[onerror]').length), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.deepEqual(observed.dialogs, []);
  });

  it('draws a posted alert in the ticker and on the map within 2 s; its stream and the page never show a source address', async () => {
    const visitor = await openEventStream(`${running.url}/dashboard/stream`);
    const marker = `/live/${Date.now()}${XSS_IMG}`;
    try {
      await post(xssMessage(marker, '81.2.69.144'));
      const id = await page.waitForFunction((text) => {
        const row = [...document.querySelectorAll<HTMLElement>('#ticker li')].find((li) => li.querySelector('.request')?.textContent === text);
        const arcs = (window as unknown as { __arcs: string[] }).__arcs;
        return row && arcs.includes(row.dataset['id']!) ? row.dataset['id'] : false;
      }, marker, { timeout: LIVE_MS });
      assert.match(String(await id.jsonValue()), /^[0-9a-f]{32}$/);
      await visitor.next((e) => e.data.includes('/live/'));
      assert.deepEqual(observed.dialogs, []);
      const html = await page.content();
      const raw = visitor.raw();
      for (const source of [...sources, '81.2.69.144']) {
        assert.ok(!html.includes(source), `source ${source} in the public page`);
        assert.ok(!raw.includes(source), `source ${source} in the public stream`);
      }
    } finally {
      visitor.close();
    }
  });

  it('the ticker pauses and filters by class and country', async () => {
    await page.click('#ticker-pause');
    assert.equal(await page.getAttribute('#ticker-pause', 'aria-pressed'), 'true');
    const before = await page.evaluate(() => document.querySelector('#ticker li')!.getAttribute('data-id'));
    await post(xssMessage('/while-paused', '81.2.69.145'));
    await page.waitForFunction(() => /new while paused/.test(document.querySelector('#ticker-queued')!.textContent ?? ''));
    assert.equal(await page.evaluate(() => document.querySelector('#ticker li')!.getAttribute('data-id')), before);
    await page.click('#ticker-pause');
    await page.waitForFunction(() => document.querySelector('#ticker li .request')!.textContent === '/while-paused');
    await page.selectOption('#ticker-class', 'Network');
    const classes = await page.evaluate(() => [...document.querySelectorAll('#ticker .chip')].map((c) => c.textContent));
    assert.ok(classes.length > 0 && classes.every((c) => c === 'Network'), classes.join());
    await page.selectOption('#ticker-class', '');
    const country = await page.evaluate(() => document.querySelector<HTMLOptionElement>('#ticker-country option:nth-child(2)')!.value);
    await page.selectOption('#ticker-country', country);
    const routes = await page.evaluate(() => [...document.querySelectorAll('#ticker .route')].map((r) => r.textContent!.split(' ')[0]));
    assert.ok(routes.length > 0 && routes.every((r) => r === country), routes.join());
    await page.selectOption('#ticker-country', '');
  });

  it('every control is reached with the keyboard', async () => {
    // Skip link, sign-in, ticker pause and filters, tops period, TpotStats day.
    await assertKeyboardReachesEverything(page, 7);
  });

  it('fits 1280x800 and 390x844 without sideways scrolling', async () => {
    for (const [width, height] of [[1280, 800], [390, 844]] as const) {
      await page.setViewportSize({ width, height });
      await page.waitForFunction((w) => {
        const map = document.getElementById('map')!;
        return Number(map.querySelector('svg')!.getAttribute('width')) === Math.floor(map.clientWidth) && document.documentElement.scrollWidth <= w;
      }, width);
      await page.screenshot({ path: join(shots, `dashboard-${width}x${height}.png`), fullPage: width > 1000 });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('sign-in: a wrong token fails; the right one shows private data, and the token is kept nowhere in the page', async () => {
    await page.click('#sign-in-open');
    await page.fill('#sign-in-user', user.username);
    await page.fill('#sign-in-token', 'not-the-token');
    await page.click('#sign-in-submit');
    await page.waitForFunction(() => document.getElementById('sign-in-error')!.textContent === 'Wrong user name or token.');
    assert.equal(await page.isVisible('#operator'), false);
    assert.equal(await page.inputValue('#sign-in-token'), '', 'the token is not left in the form');

    await page.fill('#sign-in-token', user.token);
    await page.click('#sign-in-submit');
    await page.waitForFunction(() => !document.getElementById('operator')!.hidden && document.querySelectorAll('#bad-ips tr td.num').length > 0
      && document.querySelectorAll('#sensors tr td.num').length > 0);
    assert.equal(await page.textContent('#signed-in-name'), user.username);
    await page.selectOption('#scope', '-1');
    await page.waitForFunction(() => document.querySelectorAll('#ticker .source').length > 0);
    const badIps = await page.evaluate(() => [...document.querySelectorAll<HTMLTableRowElement>('#bad-ips tr')].map((tr) => tr.cells[0]!.textContent));
    assert.ok(badIps.some((ip) => privateSources.has(ip!)), 'a private source is in the bad-IP list');
    await page.fill('#single-ip', '81.2.69.142');
    await page.click('#single-ip-form button');
    await page.waitForFunction(() => document.querySelector('#single-ip-alerts td')?.textContent !== undefined && document.querySelectorAll('#single-ip-alerts tr td').length > 1);
    assert.ok((await page.textContent('#single-ip-alerts'))!.includes(XSS_IMG), 'the request as text');

    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'peba_session');
    assert.ok(session && session.httpOnly && session.sameSite === 'Strict' && session.expires > Date.now() / 1000);
    const kept = await page.evaluate(() => JSON.stringify([document.cookie, location.href, { ...localStorage }, { ...sessionStorage }]));
    assert.ok(!kept.includes(user.token), kept);
    assert.ok(!kept.includes('peba_session'), 'the session cookie is not readable by the page');
    // Now also the data domain, sign-out and the operator's controls.
    await assertKeyboardReachesEverything(page, 13);
    await page.screenshot({ path: join(shots, 'dashboard-operator-1280x800.png'), fullPage: true });
    // The one refused sign-in is the only error Chromium logged (its 403 answer).
    assert.deepEqual(observed.consoleErrors, ['Failed to load resource: the server responded with a status of 403 (Forbidden)']);
    assert.deepEqual(observed.badResponses, [`403 ${running.url}/dashboard/session`]);
    assert.deepEqual(observed.otherHosts, []);
  });

  it('spreads the arcs of one stream batch over at most 500 ms, in the order they were stored (on the page clock the test runs)', async () => {
    const clocked = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      await clocked.clock.install();
      const other = await clocked.newPage();
      await other.addInitScript(() => {
        const w = window as unknown as { __received: string[]; __arcTimes: Array<[string, number]> };
        w.__received = [];
        w.__arcTimes = [];
        document.addEventListener('arc', (e) => w.__arcTimes.push([(e as CustomEvent<{ id: string }>).detail.id, performance.now()]), true);
        // What the page was sent, as it arrives (the page's own handlers wait for frames).
        const Original = window.EventSource;
        window.EventSource = class extends Original {
          constructor(url: string | URL, init?: EventSourceInit) {
            super(url, init);
            this.addEventListener('alert', (e) => w.__received.push((JSON.parse((e as MessageEvent<string>).data) as { id: string }).id));
          }
        };
      });
      await other.goto(`${running.url}/`);
      await other.waitForFunction(() => document.querySelectorAll('#map path.country').length > 100 && document.querySelector('#stream-status')!.textContent === 'live');
      // From here the page's time moves only when the test says so.
      await clocked.clock.pauseAt(Date.now() + 1000);
      const sourcesOfBatch = ['81.2.69.150', '81.2.69.151', '81.2.69.152', '81.2.69.153', '81.2.69.154'];
      await post(ewsMessage(sourcesOfBatch.map((source, i) => alertXml({ analyzer: 'glastopf-community-01', source, targetPort: '80', requests: { url: `/spread/${i}` } }))));
      const batch = (await (await other.waitForFunction(() => {
        const w = window as unknown as { __received: string[] };
        return w.__received.length >= 5 ? w.__received.slice(-5) : false;
      }, undefined, { polling: 50 })).jsonValue()) as string[];
      const arcTimes = async (): Promise<Map<string, number>> =>
        new Map(((await other.evaluate(() => (window as unknown as { __arcTimes: Array<[string, number]> }).__arcTimes)) as Array<[string, number]>).filter(([id]) => batch.includes(id)));
      const received = (await other.evaluate(() => performance.now())) as number;
      let drawn = await arcTimes();
      for (let step = 0; step < 100 && drawn.size < batch.length; step++) {
        await clocked.clock.runFor(10);
        drawn = await arcTimes();
      }
      const times = batch.map((id) => drawn.get(id)!);
      assert.equal(drawn.size, batch.length, 'every arc of the batch is drawn within 1 s of page time');
      assert.deepEqual([...times].sort((a, b) => a - b), times, 'in the order they were stored');
      assert.ok(times[0]! - received <= 50, `the first at once (${times[0]! - received} ms)`);
      assert.ok(new Set(times).size >= 4, `spread over several frames: ${times.map((t) => t - received).join(', ')} ms`);
      assert.ok(times[4]! - times[0]! <= 500, `within 500 ms: ${times.map((t) => t - received).join(', ')} ms`);
    } finally {
      await clocked.close();
    }
  });
});

/** Tabs through the page and checks that every visible control got the focus. */
async function assertKeyboardReachesEverything(page: Page, atLeast: number): Promise<void> {
  const total = await page.evaluate(() => {
    const controls = [...document.querySelectorAll<HTMLElement>('a[href], button, select, input, [tabindex]')]
      .filter((e) => e.tabIndex >= 0 && e.checkVisibility() && !e.closest('dialog:not([open])'));
    controls.forEach((e, i) => { e.dataset['kb'] = String(i); });
    document.querySelectorAll<HTMLElement>('[data-kb]').forEach((e) => { if (!controls.includes(e)) delete e.dataset['kb']; });
    (document.activeElement as HTMLElement | null)?.blur();
    return controls.length;
  });
  assert.ok(total >= atLeast, `${total} controls`);
  const reached = new Set<string>();
  for (let i = 0; i < total * 3 && reached.size < total; i++) {
    await page.keyboard.press('Tab');
    const kb = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset['kb']);
    if (kb !== undefined) reached.add(kb);
  }
  const missed = await page.evaluate((seen) => [...document.querySelectorAll<HTMLElement>('[data-kb]')]
    .filter((e) => !seen.includes(e.dataset['kb']!)).map((e) => e.id || e.textContent), [...reached]);
  assert.deepEqual(missed, []);
}

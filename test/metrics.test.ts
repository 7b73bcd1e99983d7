/**
 * `/metrics` after known traffic: every counter the issue names, with the numbers that traffic
 * must have produced; the bearer token; bounded labels; METRICS=off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { alertXml, COMMUNITY, ewsMessage, postMessage, startApp, TEST_STORE_KIND, type RunningApp } from './helpers';

const TOKEN = 'scrape-secret-7';

/** Samples of the Prometheus text format, `name{labels}` -> value. */
function parseSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** The sample named with these labels, written in any order; 0 when absent (a counter not yet touched). */
function sample(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort();
  for (const [key, value] of samples) {
    const brace = key.indexOf('{');
    const keyName = brace < 0 ? key : key.slice(0, brace);
    if (keyName !== name) continue;
    const have = brace < 0 ? [] : key.slice(brace + 1, -1).split(/,(?=[a-z_]+=")/).sort();
    if (JSON.stringify(have) === JSON.stringify(wanted)) return value;
  }
  return 0;
}

async function scrape(url: string, token = TOKEN): Promise<{ status: number; text: string; type: string | null }> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
}

describe('/metrics after known traffic', () => {
  let peba: RunningApp;
  let samples: Map<string, number>;
  let text: string;

  before(async () => {
    peba = await startApp({ CACHE: 'on', METRICS: 'on', METRICS_TOKEN: TOKEN });
    const cowrie = ewsMessage([
      alertXml({ source: '81.2.69.142' }),
      alertXml({ source: '81.2.69.160' }),
      alertXml({ source: 'not-an-address' }),
    ]);
    assert.equal((await postMessage(peba.url, cowrie)).status, 200);
    assert.equal((await postMessage(peba.url, cowrie)).status, 200); // resubmitted: already present
    const dionaea = ewsMessage([alertXml({ analyzer: 'dionaea-01', source: '81.2.69.192' })]);
    assert.equal((await postMessage(peba.url, dionaea)).status, 200);
    assert.equal((await postMessage(peba.url, ewsMessage([alertXml()], { username: COMMUNITY.username, token: 'wrong' }))).status, 403);
    assert.equal((await postMessage(peba.url, '   ')).status, 400);
    assert.equal((await postMessage(peba.url, 'not xml at all')).status, 400);

    // The first request computes the answer (miss), the second is a hit answered before routing.
    for (let i = 0; i < 2; i++) {
      const reply = await fetch(`${peba.url}/alert/retrieveAlertStats`);
      assert.equal(reply.status, 200);
      await reply.text();
    }
    // Junk that must never become a label value.
    assert.equal((await fetch(`${peba.url}/no/such/path-junk-91`)).status, 404);
    await (await fetch(`${peba.url}/alert/retrieveAlertsCount?time=junk-92`)).text();

    const scraped = await scrape(peba.url);
    assert.equal(scraped.status, 200);
    assert.match(scraped.type ?? '', /^text\/plain; version=0\.0\.4/);
    text = scraped.text;
    samples = parseSamples(text);
  });
  after(async () => {
    await peba.close();
  });

  test('alerts received by domain and class, stored, already present, skipped by reason', () => {
    assert.equal(sample(samples, 'peba_alerts_received_total', { domain: 'community', class: 'SSH/console(cowrie)' }), 4);
    assert.equal(sample(samples, 'peba_alerts_received_total', { domain: 'community', class: 'Network(Dionaea)' }), 1);
    assert.equal(sample(samples, 'peba_alerts_stored_total', { domain: 'community' }), 3);
    assert.equal(sample(samples, 'peba_alerts_already_present_total', { domain: 'community' }), 2);
    assert.equal(sample(samples, 'peba_alerts_skipped_total', { domain: 'community', reason: 'invalid Source address' }), 2);
  });

  test('refused messages by status', () => {
    assert.equal(sample(samples, 'peba_messages_refused_total', { status: '403' }), 1);
    assert.equal(sample(samples, 'peba_messages_refused_total', { status: '400' }), 2);
  });

  test('one commit per accepted message, its latency observed; the queue is empty', () => {
    assert.equal(sample(samples, 'peba_commit_duration_seconds_count', { result: 'ok' }), 3);
    assert.ok(sample(samples, 'peba_commit_duration_seconds_sum', { result: 'ok' }) > 0);
    assert.equal(sample(samples, 'peba_commit_queue_alerts'), 0);
  });

  test('the OpenSearch store times each _bulk: one for the alerts of each commit (none on SQLite)', () => {
    const count = sample(samples, 'peba_opensearch_bulk_duration_seconds_count', { purpose: 'alerts', result: 'ok' });
    if (TEST_STORE_KIND === 'opensearch') {
      assert.equal(count, 3);
      assert.ok(sample(samples, 'peba_opensearch_bulk_duration_seconds_sum', { purpose: 'alerts', result: 'ok' }) > 0);
      // Every observation lies in the +Inf bucket and the buckets are cumulative.
      assert.equal(sample(samples, 'peba_opensearch_bulk_duration_seconds_bucket', { purpose: 'alerts', result: 'ok', le: '+Inf' }), 3);
      assert.equal(sample(samples, 'peba_opensearch_bulk_duration_seconds_count', { purpose: 'alerts', result: 'failed' }), 0);
    } else {
      assert.equal(count, 0);
      assert.match(text, /# TYPE peba_opensearch_bulk_duration_seconds histogram/);
    }
  });

  test('HTTP requests per route pattern and status, the hit answered before routing included', () => {
    const ingest = '/ews-0.1/alert/postSimpleMessage';
    assert.equal(sample(samples, 'peba_http_requests_total', { route: ingest, method: 'POST', status: '200' }), 3);
    assert.equal(sample(samples, 'peba_http_requests_total', { route: ingest, method: 'POST', status: '403' }), 1);
    assert.equal(sample(samples, 'peba_http_requests_total', { route: ingest, method: 'POST', status: '400' }), 2);
    assert.equal(sample(samples, 'peba_http_requests_total', { route: '/alert/retrieveAlertStats', method: 'GET', status: '200' }), 2);
    assert.equal(sample(samples, 'peba_http_request_duration_seconds_count', { route: '/alert/retrieveAlertStats', status: '200' }), 2);
    assert.equal(sample(samples, 'peba_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' }), 1);
  });

  test('cache outcomes and computations', () => {
    assert.equal(sample(samples, 'peba_cache_answers_total', { outcome: 'hit' }), 1);
    // retrieveAlertStats, and the malformed count (its DEFAULTRESPONSE is cached too).
    assert.equal(sample(samples, 'peba_cache_answers_total', { outcome: 'miss' }), 2);
    assert.equal(sample(samples, 'peba_cache_refreshes_total', { result: 'ok' }), 2);
  });

  test('component states, event-loop delay and process metrics', () => {
    assert.equal(sample(samples, 'peba_component_up', { component: 'store' }), 1);
    assert.equal(sample(samples, 'peba_stream_clients'), 0);
    assert.ok(sample(samples, 'process_resident_memory_bytes') > 0);
    assert.ok(samples.has('nodejs_eventloop_lag_p99_seconds'));
  });

  test('no label value is an address, a URL or a user name', () => {
    for (const junk of ['81.2.69', 'junk-91', 'junk-92', COMMUNITY.username, 'not-an-address']) {
      assert.ok(!text.includes(junk), `${junk} appears in the metrics`);
    }
  });

  test('the stream gauge is settable by the stream module', async () => {
    peba.app.metrics.streamClients.inc();
    peba.app.metrics.streamClients.inc();
    peba.app.metrics.streamClients.dec();
    assert.equal(sample(parseSamples((await scrape(peba.url)).text), 'peba_stream_clients'), 1);
    peba.app.metrics.streamClients.dec();
  });

  test('without the bearer token: 401, nothing disclosed, and the server still answers', async () => {
    const none = await fetch(`${peba.url}/metrics`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="metrics"');
    assert.ok(!(await none.text()).includes('peba_'));
    const wrong = await scrape(peba.url, `${TOKEN}x`);
    assert.equal(wrong.status, 401);
    assert.equal((await scrape(peba.url)).status, 200);
  });
});

describe('/metrics when METRICS=off', () => {
  test('is not served; the server still answers', async () => {
    const peba = await startApp({ METRICS: 'off' });
    try {
      assert.equal((await fetch(`${peba.url}/metrics`)).status, 404);
      assert.equal((await fetch(`${peba.url}/heartbeat`)).status, 200);
    } finally {
      await peba.close();
    }
  });
});

describe('/metrics with a failing store', () => {
  test('503 answers count as refused, the store reports down', async () => {
    const peba = await startApp({ METRICS: 'on' });
    try {
      const store = peba.app.store as unknown as { storeAlerts: () => Promise<never>; ping: () => Promise<never> };
      store.storeAlerts = () => Promise.reject(new Error('disk full'));
      store.ping = () => Promise.reject(new Error('disk gone'));
      assert.equal((await postMessage(peba.url, ewsMessage([alertXml()]))).status, 503);
      const samples = parseSamples((await scrape(peba.url, '')).text);
      assert.equal(sample(samples, 'peba_messages_refused_total', { status: '503' }), 1);
      assert.equal(sample(samples, 'peba_commit_duration_seconds_count', { result: 'failed' }), 1);
      assert.equal(sample(samples, 'peba_component_up', { component: 'store' }), 0);
      assert.equal(sample(samples, 'peba_alerts_stored_total', { domain: 'community' }), 0);
    } finally {
      delete (peba.app.store as unknown as Record<string, unknown>)['storeAlerts'];
      delete (peba.app.store as unknown as Record<string, unknown>)['ping'];
      await peba.close();
    }
  });
});

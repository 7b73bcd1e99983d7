/**
 * Several instances on one OpenSearch cluster (issue 11 point 6): what one instance stores the
 * other answers, a user added through the `peba` CLI is honoured by both, and periodic jobs are
 * claimed once per cluster. Two apps with the same index names stand for two servers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Config } from '../src/config';
import { alertXml, ewsMessage, fetchJson, OK_REPLY, postMessage, REPO_ROOT, startApp, type RunningApp } from './helpers';
import { openSearchUrl, testIndexNames } from './opensearch-node';

const run = promisify(execFile);

describe('two instances on one OpenSearch', () => {
  const names = testIndexNames();
  const shared: Partial<Record<keyof Config, string>> = {
    STORE: `opensearch+${openSearchUrl()}`, ALERTINDEX: names.alertPrefix, USERINDEX: names.users, STATISTICINDEX: names.statistics,
    CVEINDEX: names.cve, PAYLOADINDEX: names.payloads, LEASEINDEX: names.leases, OPENSEARCH_REFRESH: 'true',
    // Users are looked up in the store on every message, so a removal is seen at once.
    USER_CACHE_SECONDS: '0',
  };
  let a: RunningApp;
  let b: RunningApp;

  before(async () => {
    a = await startApp(shared);
    b = await startApp(shared);
  });

  after(async () => {
    await b.close();
    await a.close();
  });

  it('an alert posted to A is counted and listed by B', async () => {
    const reply = await postMessage(a.url, ewsMessage([
      alertXml({ analyzer: 'cowrie-instance-a', source: '81.2.69.142' }),
      alertXml({ analyzer: 'cowrie-instance-a', source: '81.2.69.143' }),
    ]));
    assert.equal(reply.text, OK_REPLY);
    assert.deepEqual(await fetchJson(`${b.url}/alert/retrieveAlertsCount?time=5&out=json`), { AlertCount: 2 });
    const ticker = await fetchJson(`${b.url}/alert/retrieveAlertsJson`) as { alerts: Array<{ analyzerType: string }> };
    assert.equal(ticker.alerts.length, 2);
  });

  it('a user added through the CLI posts to both instances; removed, it is refused by both', async () => {
    const env = { ...process.env, ...Object.fromEntries(Object.entries(shared).map(([k, v]) => [`PEBA_${k}`, v])) };
    const cli = join(REPO_ROOT, 'dist/src/cli/main.js');
    await run(process.execPath, [cli, 'user', 'add', 'cluster-user', '--token', 'Cluster-T0ken'], { env });
    const credentials = { username: 'cluster-user', token: 'Cluster-T0ken' };
    for (const [instance, source] of [[a, '81.2.69.150'], [b, '81.2.69.151']] as const) {
      const reply = await postMessage(instance.url, ewsMessage([alertXml({ analyzer: 'cowrie-cluster-user', source })], credentials));
      assert.equal(reply.text, OK_REPLY);
    }
    assert.deepEqual(await fetchJson(`${a.url}/alert/retrieveAlertsCount?time=5&out=json&ci=0`), { AlertCount: 2 });
    const listed = await run(process.execPath, [cli, 'user', 'list'], { env });
    assert.match(listed.stdout, /cluster-user/);
    await run(process.execPath, [cli, 'user', 'remove', 'cluster-user'], { env });
    for (const instance of [a, b]) {
      const refused = await postMessage(instance.url, ewsMessage([alertXml({ analyzer: 'cowrie-cluster-user', source: '81.2.69.152' })], credentials));
      assert.equal(refused.status, 403);
    }
    assert.deepEqual(await fetchJson(`${b.url}/alert/retrieveAlertsCount?time=5&out=json&ci=0`), { AlertCount: 2 }, 'nothing stored');
  });

  it('a statistics interval is claimed by one instance only', async () => {
    const claims = await Promise.all([a, b].map((i) => i.app.store.claimRun('statistics', '2026-11-27 10:00:00')));
    assert.deepEqual(claims.sort(), [false, true]);
  });
});

/**
 * The sample alert rules (deploy/prometheus/peba-alerts.yml) name only metrics and labels that
 * PEBA exports: a rule on a misspelt metric never fires, and nothing tells the operator.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { alertXml, ewsMessage, OK_REPLY, postMessage, REPO_ROOT, startApp } from './helpers';

const RULES = join(REPO_ROOT, 'deploy/prometheus/peba-alerts.yml');

test('every metric and label the sample alert rules use is exported by /metrics', async () => {
  const expressions = readFileSync(RULES, 'utf8').split('\n')
    .filter((line) => /^\s+expr: /.test(line)).map((line) => line.replace(/^\s+expr: /, ''));
  assert.ok(expressions.length >= 8, 'the rule file has its rules');
  const running = await startApp();
  try {
    // Traffic that makes labelled series appear: a stored message, a refused one.
    assert.equal((await postMessage(running.url, ewsMessage([alertXml()]))).text, OK_REPLY);
    assert.equal((await postMessage(running.url, ewsMessage([alertXml()], { username: 'nobody', token: 'wrong' }))).status, 403);
    const exported = await (await fetch(`${running.url}/metrics`)).text();
    const families = new Set([...exported.matchAll(/^# TYPE (\w+) (\w+)$/gm)].map((m) => m[1]!));
    const histograms = new Set([...exported.matchAll(/^# TYPE (\w+) histogram$/gm)].map((m) => m[1]!));
    for (const expr of expressions) {
      for (const match of expr.matchAll(/\b((?:peba|process|nodejs)_\w+)(\{[^}]*\})?/g)) {
        const series = match[1]!;
        const family = series.replace(/_(bucket|count|sum)$/, '');
        assert.ok(families.has(series) || (histograms.has(family) && family !== series), `${series} (in ${expr}) is not exported`);
        for (const label of (match[2] ?? '').matchAll(/(\w+)\s*=~?/g)) {
          const key = label[1]!;
          assert.match(exported, new RegExp(`^${series}\\{[^}]*\\b${key}="`, 'm'), `${series} has no label ${key} (in ${expr})`);
        }
      }
    }
  } finally {
    await running.close();
  }
});

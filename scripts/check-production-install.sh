#!/usr/bin/env bash
# Checks the README's production install: a built tree, then `npm ci --omit=dev` without a
# compiler or build-only data, then the server starts, stores a fixture and stops cleanly on
# SIGTERM. Run by .ci/run after the tests (needs the build of a full `npm ci` in dist/).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/peba-production-XXXXXX")
trap 'rm -rf "$work"' EXIT

# The tree as shipped: tracked files plus the build, no node_modules.
git ls-files -z | xargs -0 cp --parents -t "$work"
mkdir -p "$work/dist" && cp -r dist/src dist/geo dist/web "$work/dist/"
cd "$work"
npm ci --omit=dev --no-audit --no-fund
for dev in typescript @ip-location-db/asn esbuild world-atlas; do
  if [ -e "node_modules/$dev" ]; then echo "production install contains the dev dependency $dev" >&2; exit 1; fi
done

PEBA_BINDHOST=127.0.0.1:0 PEBA_STORE="sqlite:$work/data/peba.db" node - test/fixtures/ews/alarmcowrie.xml <<'JS'
// Starts the server, waits for its listening line, posts a fixture, checks it is counted, then
// sends SIGTERM and expects exit code 0.
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { once } = require('node:events');
const readline = require('node:readline');
(async () => {
  const server = spawn(process.execPath, ['dist/src/cli/main.js', 'start'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(server, 'exit');
  let port;
  for await (const line of readline.createInterface({ input: server.stdout })) {
    port = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1];
    if (port !== undefined) break;
  }
  if (port === undefined) throw new Error('the server ended without listening');
  server.stdout.resume();
  const base = `http://127.0.0.1:${port}`;
  const posted = await (await fetch(`${base}/ews-0.1/alert/postSimpleMessage`, { method: 'POST', body: readFileSync(process.argv[2]) })).text();
  if (!posted.includes('<StatusCode>OK</StatusCode>')) throw new Error(`post answered ${posted}`);
  const count = await (await fetch(`${base}/alert/retrieveAlertsCount?time=10`)).text();
  if (!/[1-9]/.test(count)) throw new Error(`nothing stored: ${count}`);
  const page = await fetch(`${base}/`);
  if (page.status !== 200 || !(await page.text()).includes('/assets/app-')) throw new Error(`the dashboard is not served: ${page.status}`);
  server.kill('SIGTERM');
  const [code, signal] = await exited;
  if (code !== 0) throw new Error(`the server ended with ${code ?? signal} on SIGTERM`);
  console.log(`production install serves: posted a fixture, alerts counted: ${count.trim()}; dashboard served; stopped cleanly`);
})().catch((error) => { console.error(error.message); process.exit(1); });
JS
echo "production install: OK"

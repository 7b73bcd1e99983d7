#!/usr/bin/env node
/*
 * npm's `prepare` step, run by every `npm ci` / `npm install` in this directory.
 *
 * With the dev dependencies present (a developer's or a build machine's install) it builds:
 * TypeScript to dist/, the bundled AS table (from a 63 MB CSV package that is a dev
 * dependency, so production never downloads it) and the dashboard (dist/web, bundled by esbuild
 * from web/ with the map data, all dev dependencies: the server only serves the result). A production install (`npm ci --omit=dev`) has
 * no compiler: it uses the dist/ an earlier full install built, and says how to get one if
 * there is none. Plain JavaScript, so it runs before anything is compiled.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const BUILT_FILES = ['dist/src/cli/main.js', 'dist/geo/asn-table.bin', 'dist/web/index.html'];

function installed(name) {
  try {
    require.resolve(`${name}/package.json`, { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

function run(args) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (installed('typescript') && installed('@ip-location-db/asn')) {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  run([tsc, '-p', 'tsconfig.json']);
  run(['dist/scripts/build-asn-table.js']);
  run([tsc, '-p', 'web/tsconfig.json']);
  run(['dist/scripts/build-web.js']);
} else {
  const missing = BUILT_FILES.filter((file) => !existsSync(path.join(root, file)));
  if (missing.length > 0) {
    console.error(
      `peba: a production install (without dev dependencies) needs the built tree, but ${missing.join(', ')} ` +
      'is missing. Build it once with the dev dependencies (`npm ci`), then run `npm ci --omit=dev` ' +
      'in the same directory (see README, "Install for production").',
    );
    process.exit(1);
  }
  console.error('peba: production install: using the build in dist/ (no TypeScript compiler installed)');
}

/** The shipped example configuration stays complete and true as keys are added. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONFIG_KEYS, loadConfig, parseConfigFile } from '../src/config';
import { REPO_ROOT } from './helpers';

const EXAMPLE = join(REPO_ROOT, 'deploy/peba.cfg.example');

test('the example configuration loads without warnings and sets the store the systemd unit may write', () => {
  const warnings: string[] = [];
  const config = loadConfig({ file: EXAMPLE, env: {}, warn: (m) => warnings.push(m) });
  assert.deepEqual(warnings, []);
  assert.equal(config.STORE, 'sqlite:/var/lib/peba/peba.db');
  const unit = readFileSync(join(REPO_ROOT, 'deploy/peba.service'), 'utf8');
  assert.match(unit, /^ReadWritePaths=\/var\/lib\/peba$/m, 'the unit lets the service write where the example puts the store');
});

test('the example configuration documents every key, each with a comment and its true default', () => {
  const content = readFileSync(EXAMPLE, 'utf8');
  const lines = content.split('\n');
  // Commented-out settings ("#KEY=value") show the built-in defaults: read them as a file of their own.
  const shown = parseConfigFile(lines.filter((l) => /^#[A-Z_]+=/.test(l)).map((l) => l.slice(1)).join('\n'), 'example');
  const active = parseConfigFile(content, 'example');
  for (const key of CONFIG_KEYS) {
    const index = lines.findIndex((l) => new RegExp(`^#?${key}=`).test(l));
    assert.ok(index >= 0, `${key} is missing from deploy/peba.cfg.example`);
    assert.ok(shown.has(key) !== active.has(key), `${key} appears once, commented out or set`);
    let above = index - 1;
    while (above >= 0 && /^#?[A-Z_]+=/.test(lines[above]!)) above--;
    assert.match(lines[above] ?? '', /^# \w/, `${key} has an explanation above it`);
  }
  const defaults = loadConfig({ env: {}, file: undefined });
  const fromExample = loadConfig({ env: {}, file: undefined, overrides: Object.fromEntries(shown) });
  for (const key of shown.keys()) {
    assert.deepEqual(fromExample[key as keyof typeof defaults], defaults[key as keyof typeof defaults], `${key}: the default shown is the built-in one`);
  }
});

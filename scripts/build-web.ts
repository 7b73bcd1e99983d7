/**
 * Builds the dashboard (web/) into dist/web: the TypeScript and CSS bundled and minified by
 * esbuild, the world map (world-atlas country shapes, keyed by ISO alpha-2 code as the API's
 * countries are) as a JSON asset, every asset named by a hash of its content so it can be cached
 * for a year, and index.html pointing at them. Nothing is fetched from anywhere at run time.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import { numericToAlpha2 } from 'i18n-iso-countries';

const root = join(__dirname, '..', '..');
const out = join(root, 'dist', 'web');
const assets = join(out, 'assets');

const contentHash = (bytes: string | Buffer): string => createHash('sha256').update(bytes).digest('base64url').slice(0, 12);

interface Topology {
  objects: { countries: { geometries: Array<{ id?: string; properties?: { name?: string } }> }; land?: unknown };
}

/** The 1:110m country shapes with alpha-2 ids; the land object is not drawn, so it is left out. */
function worldMap(): string {
  const topology = JSON.parse(readFileSync(require.resolve('world-atlas/countries-110m.json'), 'utf8')) as Topology;
  for (const geometry of topology.objects.countries.geometries) {
    geometry.id = (geometry.id !== undefined && numericToAlpha2(geometry.id)) || '';
  }
  delete topology.objects.land;
  return JSON.stringify(topology);
}

async function main(): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(assets, { recursive: true });
  const result = await build({
    entryPoints: { app: join(root, 'web', 'src', 'main.ts') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    entryNames: '[name]-[hash]',
    outdir: assets,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
  const script = outputs.find((f) => f.endsWith('.js'));
  const style = outputs.find((f) => f.endsWith('.css'));
  if (!script || !style) throw new Error(`esbuild wrote ${outputs.join(', ')}: expected one script and one style sheet`);

  const map = worldMap();
  const mapName = `world-${contentHash(map)}.json`;
  writeFileSync(join(assets, mapName), map);

  const icon = readFileSync(join(root, 'web', 'icon.svg'));
  const iconName = `icon-${contentHash(icon)}.svg`;
  writeFileSync(join(assets, iconName), icon);

  const html = readFileSync(join(root, 'web', 'index.html'), 'utf8')
    .replaceAll('{{icon}}', `/assets/${iconName}`)
    .replaceAll('{{script}}', `/assets/${script}`)
    .replaceAll('{{style}}', `/assets/${style}`)
    .replaceAll('{{map}}', `/assets/${mapName}`);
  if (/\{\{\w+\}\}/.test(html)) throw new Error('web/index.html has a placeholder the build does not fill');
  writeFileSync(join(out, 'index.html'), html);
  console.log(`dashboard: dist/web/index.html, assets ${[script, style, mapName, iconName].join(', ')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

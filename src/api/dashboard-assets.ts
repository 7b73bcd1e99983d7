/**
 * The built dashboard (dist/web, written by scripts/build-web.ts at install time), held in
 * memory: index.html and the assets with content-hashed names. Compressed copies are made on
 * first request and kept.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export type Encoding = 'br' | 'gzip' | 'identity';

export class StaticFile {
  private readonly encoded = new Map<Encoding, Buffer>();

  constructor(readonly type: string, private readonly bytes: Buffer) {
    this.encoded.set('identity', bytes);
  }

  /** The body in the best encoding the client accepts. */
  body(acceptEncoding: string | undefined): { encoding: Encoding; bytes: Buffer } {
    const encoding: Encoding = accepts(acceptEncoding, 'br') ? 'br' : accepts(acceptEncoding, 'gzip') ? 'gzip' : 'identity';
    let bytes = this.encoded.get(encoding);
    if (!bytes) {
      bytes = encoding === 'br'
        ? brotliCompressSync(this.bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: this.bytes.length } })
        : gzipSync(this.bytes, { level: 9 });
      this.encoded.set(encoding, bytes);
    }
    return { encoding, bytes };
  }
}

/** Whether an Accept-Encoding header names `coding` with a weight above 0. */
function accepts(header: string | undefined, coding: string): boolean {
  for (const part of (header ?? '').split(',')) {
    const [token = '', ...params] = part.split(';').map((p) => p.trim());
    if (token.toLowerCase() !== coding) continue;
    const weight = params.find((p) => p.startsWith('q='));
    return weight === undefined || Number(weight.slice(2)) > 0;
  }
  return false;
}

export interface DashboardFiles {
  readonly index: StaticFile;
  /** By file name under /assets/. */
  readonly assets: ReadonlyMap<string, StaticFile>;
}

/** dist/web beside the compiled server. */
export const DEFAULT_WEB_DIR = join(__dirname, '..', '..', 'web');

/** The built dashboard, or null when it was not built (the page then says how to build it). */
export function loadDashboard(dir = DEFAULT_WEB_DIR): DashboardFiles | null {
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) return null;
  const assets = new Map<string, StaticFile>();
  for (const name of readdirSync(join(dir, 'assets'))) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, new StaticFile(type, readFileSync(join(dir, 'assets', name))));
  }
  return { index: new StaticFile(TYPES['.html']!, readFileSync(indexPath)), assets };
}

/** Opens the store a `STORE` URL names. */
import type { Config } from '../config';
import type { BulkObserver } from './opensearch/cluster';
import { alertPrefixOf } from './opensearch/layout';
import { OpenSearchStore } from './opensearch/opensearch-store';
import { SqliteStore } from './sqlite/sqlite-store';
import type { AlertStore } from './store';

export interface OpenStoreOptions {
  /** Throw StoreMissingError instead of creating a store that is not there (every CLI command but start and init; SQLite only). */
  readonly mustExist?: boolean;
  /** Told the time of every OpenSearch `_bulk` (metrics; the SQLite store has none). */
  readonly bulkObserver?: BulkObserver;
}

export type StoreConfig = Pick<Config, 'STORE' | 'SQLITE_SYNCHRONOUS' | 'SQLITE_BUSY_TIMEOUT' | 'ELASTICSEARCH_HOST'
  | 'ELASTICSEARCH_HTTP_AUTH' | 'ELASTICTIMEOUT' | 'ALERTINDEX' | 'USERINDEX' | 'STATISTICINDEX' | 'CVEINDEX' | 'PAYLOADINDEX'
  | 'LEASEINDEX' | 'OPENSEARCH_REFRESH'>;

/** `host:port` as the original's ELASTICSEARCH_HOST (http assumed), or full URLs; comma separated. */
function nodeUrls(list: string): string[] {
  return list.split(',').map((n) => n.trim()).filter((n) => n !== '')
    .map((n) => (/^https?:\/\//.test(n) ? n : `http://${n}`).replace(/\/+$/, ''));
}

export function openStore(config: StoreConfig, options: OpenStoreOptions = {}): AlertStore {
  const url = config.STORE;
  if (url.startsWith('sqlite:')) {
    return new SqliteStore({
      path: url.slice('sqlite:'.length),
      synchronous: config.SQLITE_SYNCHRONOUS,
      busyTimeoutMs: config.SQLITE_BUSY_TIMEOUT,
      mustExist: options.mustExist,
    });
  }
  if (url === 'opensearch' || url.startsWith('opensearch+')) {
    return new OpenSearchStore({
      nodes: nodeUrls(url === 'opensearch' ? config.ELASTICSEARCH_HOST : url.slice('opensearch+'.length)),
      auth: config.ELASTICSEARCH_HTTP_AUTH,
      timeoutMs: config.ELASTICTIMEOUT * 1000,
      refresh: config.OPENSEARCH_REFRESH,
      bulkObserver: options.bulkObserver,
      indices: {
        alertPrefix: alertPrefixOf(config.ALERTINDEX), users: config.USERINDEX, statistics: config.STATISTICINDEX,
        cve: config.CVEINDEX, payloads: config.PAYLOADINDEX, leases: config.LEASEINDEX,
      },
    });
  }
  throw new Error(`unsupported store ${url}`);
}

/** Opens the store a `STORE` URL names. */
import type { Config } from '../config';
import { SqliteStore } from './sqlite/sqlite-store';
import type { AlertStore } from './store';

export interface OpenStoreOptions {
  /** Throw StoreMissingError instead of creating a store that is not there (every CLI command but start and init). */
  readonly mustExist?: boolean;
}

export function openStore(config: Pick<Config, 'STORE' | 'SQLITE_SYNCHRONOUS' | 'SQLITE_BUSY_TIMEOUT'>, options: OpenStoreOptions = {}): AlertStore {
  const url = config.STORE;
  if (url.startsWith('sqlite:')) {
    return new SqliteStore({
      path: url.slice('sqlite:'.length),
      synchronous: config.SQLITE_SYNCHRONOUS,
      busyTimeoutMs: config.SQLITE_BUSY_TIMEOUT,
      mustExist: options.mustExist,
    });
  }
  throw new Error(`unsupported store ${url}`);
}

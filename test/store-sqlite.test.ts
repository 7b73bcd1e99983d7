/** The store contract against the embedded SQLite store. */
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import { tempDir } from './helpers';
import { storeContract } from './store-contract';

const dir = tempDir('peba-contract-');
storeContract('sqlite', async () => new SqliteStore({ path: join(dir.path, 'peba.db'), synchronous: 'normal' }), async () => dir.remove());

/**
 * How alert ids are kept in the `id` / `alert_id` columns. An md5 hex id (every id this backend
 * computes) is kept as its 16 bytes, as since the first schema, so existing databases keep
 * their rows and their unique index as they are. Any other id (an imported Elasticsearch `_id`,
 * e.g. a 20-character auto id) is kept as TEXT in the same column: SQLite never finds a TEXT
 * value equal to a BLOB, so the two forms cannot collide, and the text comes back exactly.
 */
const MD5_HEX = /^[0-9a-f]{32}$/;

export type StoredId = Buffer | string;

export function toStoredId(id: string): StoredId {
  // Only lower-case hex maps to bytes: ids are case-sensitive, and bytes read back lower-case.
  return MD5_HEX.test(id) ? Buffer.from(id, 'hex') : id;
}

export function fromStoredId(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('hex');
  throw new TypeError(`unexpected alert id column value of type ${typeof value}`);
}

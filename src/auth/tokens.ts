/** Token hashing and comparison. Tokens are never stored, only their hashes. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function sha512Hex(token: string): string {
  return createHash('sha512').update(token, 'utf8').digest('hex');
}

/** A new random token for `peba user add` (URL- and XML-safe). */
export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Does `token` hash to `storedHash` (sha512 hex, or legacy md5 hex)? Compared in constant
 * time; a malformed stored hash never matches.
 */
export function tokenMatches(token: string, storedHash: string): boolean {
  const algorithm = storedHash.length === 128 ? 'sha512' : storedHash.length === 32 ? 'md5' : null;
  if (algorithm === null || !/^[0-9a-fA-F]+$/.test(storedHash)) return false;
  const actual = createHash(algorithm).update(token, 'utf8').digest();
  return timingSafeEqual(actual, Buffer.from(storedHash, 'hex'));
}

/** Constant-time equality of two secrets of any length (compares their sha512 digests). */
export function secretsEqual(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha512').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

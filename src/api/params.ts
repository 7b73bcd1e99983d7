/**
 * Query parameters as the original read them. Anything malformed yields undefined, which the
 * routes answer with DEFAULTRESPONSE (CONTRACT section 6).
 */
import type { DomainScope } from '../domain/query';

export type Query = Record<string, string | string[] | undefined>;

/** The first value of a parameter (a repeated parameter counts by its first value). */
export function param(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `ci`: absent or anything else = community; `0` = private; `-1` = both (CONTRACT section 4). */
export function scopeOf(query: Query): DomainScope {
  const ci = param(query, 'ci');
  return ci === '0' ? 'private' : ci === '-1' ? 'both' : 'community';
}

/** A whole number in [min, max], written as plain digits; undefined otherwise. */
export function integerParam(raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= min && value <= max ? value : undefined;
}

/** `out=json` asks for JSON; everything else gets the XML default. */
export function wantsJson(query: Query): boolean {
  return param(query, 'out')?.toLowerCase() === 'json';
}

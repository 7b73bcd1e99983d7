/** Is a stored address text public? Memoized: the bad-IP list and the feeds ask about the same addresses all day. */
import { isPublicAddress, isPublicIpv4Text, parseAddress } from './address';
import { detachedString } from '../util/detached-string';

/**
 * Memo of the public-address check: a bad-IP list repeats the same addresses all day, and the
 * store hands out the same string objects while they stay in the window, whose hashes V8 keeps,
 * so a lookup costs less than even the dotted-quad check (bench/query).
 */
const publicMemo = new Map<string, boolean>();
const PUBLIC_MEMO_SIZE = 200_000;

export function isPublicText(text: string): boolean {
  let isPublic = publicMemo.get(text);
  if (isPublic === undefined) {
    isPublic = isPublicIpv4Text(text) ?? isPublicAddressText(text);
    if (publicMemo.size >= PUBLIC_MEMO_SIZE) publicMemo.clear();
    publicMemo.set(detachedString(text), isPublic);
  }
  return isPublic;
}

function isPublicAddressText(text: string): boolean {
  const address = parseAddress(text);
  return address !== null && isPublicAddress(address);
}

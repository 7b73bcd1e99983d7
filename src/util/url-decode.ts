/**
 * Percent-decoding as Python's `urllib.parse.unquote` does it, which is what the original
 * backend applied: valid `%XX` escapes become bytes, invalid ones stay as written, `+` stays
 * `+`, and byte sequences that are not UTF-8 become U+FFFD. `decodeURIComponent` would throw
 * on the hostile input honeypots receive.
 */
export function urlDecode(text: string): string {
  if (!text.includes('%')) return text;
  // Bytes written straight into one buffer (a UTF-16 unit is at most 3 bytes of UTF-8), not a
  // number array and a TextEncoder per call: this runs for several fields of most alerts (0.8 %
  // of the server's CPU in bench:opensearch's ingest). test/url-decode.test.ts compares it with
  // the array version on random input.
  const bytes = Buffer.allocUnsafe(text.length * 3);
  let length = 0;
  for (let i = 0; i < text.length; ) {
    const code = text.charCodeAt(i);
    if (code === 0x25 && i + 2 < text.length) {
      const high = hexValue(text.charCodeAt(i + 1));
      const low = hexValue(text.charCodeAt(i + 2));
      if (high >= 0 && low >= 0) {
        bytes[length++] = high * 16 + low;
        i += 3;
        continue;
      }
    }
    if (code < 0x80) {
      bytes[length++] = code;
      i++;
      continue;
    }
    // A run of non-ASCII text as UTF-8 (a surrogate pair whole; a lone surrogate as U+FFFD).
    let end = i + 1;
    while (end < text.length && text.charCodeAt(end) >= 0x80) end++;
    length += bytes.write(text.slice(i, end), length, 'utf8');
    i = end;
  }
  return bytes.toString('utf8', 0, length);
}

/** The value of an ASCII hex digit, or -1. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

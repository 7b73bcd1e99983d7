/**
 * Percent-decoding as Python's `urllib.parse.unquote` does it, which is what the original
 * backend applied: valid `%XX` escapes become bytes, invalid ones stay as written, `+` stays
 * `+`, and byte sequences that are not UTF-8 become U+FFFD. `decodeURIComponent` would throw
 * on the hostile input honeypots receive.
 */
export function urlDecode(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < text.length; ) {
    const code = text.charCodeAt(i);
    if (code === 0x25 && i + 2 < text.length && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
    } else if (code < 0x80) {
      bytes.push(code);
      i++;
    } else {
      // Copy one whole code point (surrogate pairs included) as UTF-8.
      const point = text.codePointAt(i)!;
      const char = String.fromCodePoint(point);
      for (const b of encoder.encode(char)) bytes.push(b);
      i += char.length;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function isHex(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

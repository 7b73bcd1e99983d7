/** The length of `bytes` without a multi-byte UTF-8 character cut off at its end. */
export function completeUtf8Length(bytes: Uint8Array): number {
  // A lead byte within the last 3 bytes whose sequence runs past the end: cut before it.
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if (b < 0x80) return bytes.length;
    if (b >= 0xc0) {
      const needed = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return needed > back ? bytes.length - back : bytes.length;
    }
  }
  return bytes.length;
}

/**
 * A copy of `text` that does not keep a larger string alive. V8 represents a substring of 13 or
 * more characters (from split, slice, a regex match) as a view into its parent, so one address
 * split out of a megabyte of concatenated sources, kept in a long-lived map, keeps the whole
 * megabyte. Concatenation flattens into a fresh string; the slice is then a view into that.
 */
export function detachedString(text: string): string {
  return text.length < 13 ? text : (` ${text}`).slice(1);
}

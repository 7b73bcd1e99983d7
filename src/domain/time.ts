/** Stored times are UTC text `YYYY-MM-DD HH:MM:SS`, the format of existing indices. */

/** Epoch milliseconds to `YYYY-MM-DD HH:MM:SS` (UTC). */
export function formatUtc(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** `YYYY-MM-DD HH:MM:SS` (UTC) to epoch milliseconds, NaN when malformed. */
export function parseUtc(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}

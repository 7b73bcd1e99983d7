/** XML text for replies. Everything that came from the network is escaped. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  // Characters XML 1.0 cannot carry at all are dropped rather than producing invalid XML.
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
}

/** The reply ewsposter reads: it looks for `<StatusCode>OK</StatusCode>`. */
export function resultXml(statusCode: string, text: string): string {
  return `<Result><StatusCode>${escapeXml(statusCode)}</StatusCode><Text>${escapeXml(text)}</Text></Result>`;
}

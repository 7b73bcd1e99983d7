/** Credentials from an `Authorization: Basic` header (RFC 7617): user name, then the token after the first colon. */
export function basicCredentials(header: string | undefined): { username: string; token: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]{1,4096})\s*$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 1 ? null : { username: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
}

/** The page's requests: same origin only (the CSP allows nothing else), JSON answers. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (!response.ok) throw new HttpError(response.status, `${path}: ${response.status}`);
  return (await response.json()) as T;
}

export async function sendJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new HttpError(response.status, `${path}: ${response.status}`);
  const text = await response.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Appends the data domain (`ci`) the operator chose; the public view always asks for community data. */
export function withScope(path: string, scope: string): string {
  if (scope === '') return path;
  return `${path}${path.includes('?') ? '&' : '?'}ci=${encodeURIComponent(scope)}`;
}

/** One alert as retrieveAlertsJson and the public stream carry it. */
export interface TickerAlert {
  id: string;
  dateCreated: string;
  country: string;
  countryName: string;
  targetCountry: string;
  sourceLat: string;
  sourceLng: string;
  destLat: string;
  destLng: string;
  analyzerType: string;
  requestString: string;
  clientDomain: boolean;
  /** Operator stream only. */
  sourceEntryIp?: string;
  peerIdent?: string;
  hostname?: string;
}

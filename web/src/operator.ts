/**
 * The operator's view: sign-in (the token goes to the server once, in a POST body, and is then
 * dropped from the form; the session lives in an HttpOnly cookie the page cannot read), the
 * bad-IP list, one address's alerts and the sensors table.
 */
import { getJson, HttpError, sendJson, withScope } from './api';
import { byId, el, formatCount, replaceRows, row } from './dom';

interface BadIp {
  ip: string;
  count: number;
}

interface SingleIpAlert {
  id: string;
  createTime: string;
  peerType: string;
  targetCountry: string;
  request: string;
}

interface Sensor {
  sensor: string;
  lastReceived: string;
  lastHour: number;
  lastDay: number;
  peerTypes: string[];
  stale: boolean;
}

interface SensorsAnswer {
  staleMinutes: number;
  sensors: Sensor[];
}

export async function currentUser(): Promise<string | null> {
  try {
    return (await getJson<{ user: string }>('/dashboard/session')).user;
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) return null;
    throw error;
  }
}

/** Wires the sign-in dialog; `onChange` is told the user after signing in or out. */
export function setUpSignIn(onChange: (user: string | null) => void): void {
  const dialog = byId<HTMLDialogElement>('sign-in-dialog');
  const form = byId<HTMLFormElement>('sign-in-form');
  const user = byId<HTMLInputElement>('sign-in-user');
  const token = byId<HTMLInputElement>('sign-in-token');
  const error = byId('sign-in-error');
  byId('sign-in-open').addEventListener('click', () => {
    error.textContent = '';
    dialog.showModal();
    user.focus();
  });
  byId('sign-in-cancel').addEventListener('click', () => {
    token.value = '';
    dialog.close();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const credentials = { user: user.value, token: token.value };
    token.value = '';
    sendJson<{ user: string }>('POST', '/dashboard/session', credentials).then((answer) => {
      dialog.close();
      onChange(answer.user);
    }, (failure: unknown) => {
      error.textContent = failure instanceof HttpError && failure.status === 403 ? 'Wrong user name or token.' : 'Sign-in failed; try again.';
      token.focus();
    });
  });
  byId('sign-out').addEventListener('click', () => {
    void sendJson('DELETE', '/dashboard/session').finally(() => onChange(null));
  });
}

export async function showBadIps(scope: string): Promise<void> {
  const list = await getJson<BadIp[]>(withScope('/dashboard/operator/bad-ips', scope));
  byId('bad-ip-span').textContent = `${formatCount(list.length)} addresses`;
  replaceRows(byId('bad-ips'), list.slice(0, 200).map((b) => row([b.ip, formatCount(b.count)], [1])));
  byId<HTMLAnchorElement>('bad-ip-download').href = withScope('/dashboard/operator/bad-ips.txt', scope);
}

export function setUpOperatorControls(scope: () => string): void {
  byId('bad-ip-copy').addEventListener('click', () => {
    const note = byId('bad-ip-note');
    getJson<BadIp[]>(withScope('/dashboard/operator/bad-ips', scope()))
      .then((list) => navigator.clipboard.writeText(list.map((b) => b.ip).join('\n') + '\n').then(() => list.length))
      .then((n) => { note.textContent = `${formatCount(n)} addresses copied`; }, () => { note.textContent = 'copying failed'; });
  });
  byId<HTMLFormElement>('single-ip-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const ip = byId<HTMLInputElement>('single-ip').value.trim();
    void getJson<SingleIpAlert[]>(withScope(`/dashboard/operator/single-ip?ip=${encodeURIComponent(ip)}`, scope())).then((alerts) => {
      replaceRows(byId('single-ip-alerts'), alerts.map((a) => row([a.createTime, a.peerType, a.targetCountry, a.request])), 'no alerts from that address');
    });
  });
}

export async function showSensors(scope: string): Promise<void> {
  const answer = await getJson<SensorsAnswer>(withScope('/dashboard/operator/sensors', scope));
  byId('sensors-hint').textContent = `stale: no alert for ${answer.staleMinutes} minutes`;
  replaceRows(byId('sensors'), answer.sensors.map((s) => {
    const tr = row([s.sensor, s.lastReceived, formatCount(s.lastHour), formatCount(s.lastDay), s.peerTypes.join(', ')], [2, 3]);
    if (s.stale) {
      tr.className = 'stale';
      tr.cells[1]!.append(el('span', 'stale', 'badge'));
    }
    return tr;
  }), 'no sensor sent alerts in the last day');
}

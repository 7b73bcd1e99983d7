/** How alerts are shown to dashboards and blocklist clients (CONTRACT sections 5-6). */
import type { AlertDocument } from '../../domain/alert';
import type { StoredAlert } from '../../domain/query';
import { urlDecode } from '../../util/url-decode';
import type { XmlElement } from './xml';

/** Where Sicherheitstacho draws alerts without a location (the original's default). */
const DEFAULT_LATITUDE = '50.708021';
const DEFAULT_LONGITUDE = '7.129191';
const NO_LOCATION = '0.0 , 0.0';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** `"lat , lon"` into its two decimal strings. */
export function splitLocation(location: string): [string, string] {
  const [lat = '0.0', lng = '0.0'] = location.split(',').map((part) => part.trim());
  return [lat, lng];
}

function dashboardLocation(location: string): [string, string] {
  return location === NO_LOCATION || location === '' ? [DEFAULT_LATITUDE, DEFAULT_LONGITUDE] : splitLocation(location);
}

/** The ticker's request text: login attempts, shell input, or the request, HTML-escaped. */
export function dashboardRequestString(doc: AlertDocument): string {
  const isCowrie = doc.peerType === 'SSH/console(cowrie)';
  let text: string;
  if ((isCowrie || doc.peerType === 'Passwords(heralding)') && doc.originalRequestString === '') {
    const quoted = (value: string): string => (value === '' ? '<none>' : `"${urlDecode(value)}"`);
    text = `Username: ${quoted(doc.username)} | Password: ${quoted(doc.password)}`;
    if (isCowrie) text += ` | Status: ${doc.login}`;
  } else if (isCowrie) {
    text = doc.originalRequestString.replace(/\r?\n/g, '; ').slice(2);
  } else {
    text = urlDecode(doc.originalRequestString);
  }
  return escapeHtml(text);
}

/** One entry of `/alert/retrieveAlertsJson`. */
export function tickerEntry({ id, document: doc }: StoredAlert): Record<string, unknown> {
  const [sourceLat, sourceLng] = dashboardLocation(doc.location);
  const [destLat, destLng] = dashboardLocation(doc.locationDestination);
  return {
    id,
    dateCreated: doc.recievedTime,
    country: doc.country,
    countryName: doc.countryName,
    targetCountry: doc.targetCountry,
    sourceLat,
    sourceLng,
    destLat,
    destLng,
    analyzerType: doc.peerType,
    requestString: dashboardRequestString(doc),
    clientDomain: doc.clientDomain,
  };
}

/** One `<Alert>` of retrieveAlertsCyber. */
export function cyberAlertElement({ id, document: doc }: StoredAlert): XmlElement {
  const [latitude, longitude] = splitLocation(doc.location);
  return {
    name: 'Alert',
    children: [
      { name: 'Id', text: id },
      { name: 'DateCreated', text: doc.recievedTime },
      { name: 'Peer', children: [{ name: 'Id', text: doc.peerIdent }, { name: 'Type', text: doc.peerType }, { name: 'Country', text: doc.targetCountry }] },
      { name: 'Request', text: doc.originalRequestString },
      { name: 'Source', children: [
        { name: 'Address', text: doc.sourceEntryIp }, { name: 'Country', text: doc.country },
        { name: 'Latitude', text: latitude }, { name: 'Longitude', text: longitude },
      ] },
    ],
  };
}

/** One `<Alert>` of querySingleIP. */
export function singleIpAlertElement({ id, document: doc }: StoredAlert): XmlElement {
  return {
    name: 'Alert',
    children: [
      { name: 'Id', text: id },
      { name: 'DateCreated', text: doc.createTime },
      { name: 'Peer', children: [{ name: 'Type', text: doc.peerType }, { name: 'Country', text: doc.targetCountry }] },
      { name: 'Request', text: doc.originalRequestString },
    ],
  };
}

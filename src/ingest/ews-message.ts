/**
 * Reads an `EWS-SimpleMessage` document into plain strings, refusing anything that is not a
 * well-formed, DTD-free XML document. Semantic checks (addresses, times) come after, per alert,
 * in alert-validation.ts, so one bad alert does not spoil its message.
 */
import { SaxesParser } from 'saxes';

export interface Credentials {
  readonly username: string;
  readonly token: string;
}

export interface RawEndpoint {
  address: string;
  port: string;
  protocol: string;
}

/** An `<Alert>` as written, nothing interpreted yet. */
export interface RawAlert {
  analyzerId: string;
  createTime: string | undefined;
  timezone: string | undefined;
  source: RawEndpoint | undefined;
  target: RawEndpoint | undefined;
  requests: Map<string, string>;
  additional: Map<string, string>;
}

export interface EwsMessage {
  readonly credentials: Credentials | null;
  readonly alerts: RawAlert[];
}

/** A message refused as a whole; `statusCode` is the HTTP status to answer with. */
export class EwsMessageError extends Error {
  constructor(message: string, readonly statusCode: number) {
    super(message);
  }
}

export interface ParseLimits {
  /** More alerts than this refuses the message (the sender should split its batch). */
  readonly maxAlerts: number;
}

const ROOT = 'EWS-SimpleMessage';
/** Elements whose text we keep, by parent. Everything else is skipped. */
const ALERT_TEXT_ELEMENTS = new Set(['CreateTime', 'Source', 'Target', 'Request', 'AdditionalData']);

/**
 * Parses the message. Throws EwsMessageError for input that is not XML, has a DOCTYPE or
 * entity declaration, has the wrong root element, or exceeds `limits`.
 */
export function parseEwsMessage(xml: string, limits: ParseLimits): EwsMessage {
  // Cheap, early refusal of DTDs: nothing legitimate sends one, and refusing before parsing
  // means entity tricks (billion laughs, external entities) never reach a parser.
  if (/<!DOCTYPE|<!ENTITY/i.test(prologOf(xml))) {
    throw new EwsMessageError('DOCTYPE and ENTITY declarations are not accepted', 400);
  }
  const parser = new SaxesParser({ position: false, xmlns: false });
  let credentials: { username: string; token: string } | null = null;
  const alerts: RawAlert[] = [];
  const stack: string[] = [];
  let alert: RawAlert | null = null;
  let text: string | null = null;
  let attributes: Record<string, string> = {};
  let sawRoot = false;

  parser.on('doctype', () => {
    throw new EwsMessageError('DOCTYPE and ENTITY declarations are not accepted', 400);
  });
  parser.on('opentag', (tag) => {
    const name = tag.name;
    const parent = stack[stack.length - 1];
    stack.push(name);
    if (stack.length === 1) {
      if (name !== ROOT) throw new EwsMessageError(`root element must be ${ROOT}, not ${name}`, 400);
      sawRoot = true;
      return;
    }
    if (parent === ROOT && name === 'Alert') {
      if (alerts.length >= limits.maxAlerts) {
        throw new EwsMessageError(`more than ${limits.maxAlerts} alerts in one message`, 413);
      }
      alert = {
        analyzerId: '', createTime: undefined, timezone: undefined, source: undefined,
        target: undefined, requests: new Map(), additional: new Map(),
      };
      alerts.push(alert);
    } else if (parent === ROOT && name === 'Authentication') {
      credentials ??= { username: '', token: '' };
    } else if (parent === 'Authentication' && (name === 'username' || name === 'token')) {
      text = '';
    } else if (parent === 'Alert' && alert) {
      if (name === 'Analyzer') alert.analyzerId = String(tag.attributes['id'] ?? '');
      else if (ALERT_TEXT_ELEMENTS.has(name)) {
        text = '';
        attributes = tag.attributes as Record<string, string>;
      }
    }
  });
  const onText = (chunk: string): void => {
    if (text !== null) text += chunk;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', (tag) => {
    const name = tag.name;
    stack.pop();
    const parent = stack[stack.length - 1];
    if (text === null) {
      if (name === 'Alert' && parent === ROOT) alert = null;
      return;
    }
    const value = text;
    text = null;
    if (parent === 'Authentication' && credentials) {
      if (name === 'username') credentials.username = value.trim();
      else credentials.token = value.trim();
      return;
    }
    // Only direct children of <Alert> count; anything nested deeper is ignored.
    if (!alert || parent !== 'Alert') return;
    switch (name) {
      case 'CreateTime':
        alert.createTime = value.trim();
        alert.timezone = attributes['tz'];
        break;
      case 'Source':
      case 'Target': {
        const endpoint = { address: value.trim(), port: (attributes['port'] ?? '').trim(), protocol: (attributes['protocol'] ?? '').trim() };
        if (name === 'Source') alert.source = endpoint;
        else alert.target = endpoint;
        break;
      }
      case 'Request': {
        const type = attributes['type'] ?? '';
        if (!alert.requests.has(type)) alert.requests.set(type, value);
        break;
      }
      case 'AdditionalData':
        alert.additional.set(attributes['meaning'] ?? '', value);
        break;
    }
  });

  try {
    parser.write(xml).close();
  } catch (error) {
    if (error instanceof EwsMessageError) throw error;
    throw new EwsMessageError(`malformed XML: ${firstLine(error)}`, 400);
  }
  if (!sawRoot) throw new EwsMessageError('empty document', 400);
  return { credentials, alerts };
}

/** The text before the root element: the only place a DTD may stand (CDATA may quote one later). */
function prologOf(xml: string): string {
  for (let at = xml.indexOf('<'); at >= 0; at = xml.indexOf('<', at + 1)) {
    const next = xml.charCodeAt(at + 1);
    const isNameStart = (next >= 65 && next <= 90) || (next >= 97 && next <= 122) || next === 95 || next === 58;
    if (isNameStart) return xml.slice(0, at);
  }
  return xml;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0]!.slice(0, 200);
}

/**
 * The OpenAPI 3.1 description of every endpoint as it answers, kept beside the routes: the
 * routes do not validate through schemas (malformed parameters answer DEFAULTRESPONSE, 200, as
 * the original did), so the document is written here and checked against the registered routes
 * by test/openapi.test.ts and against the live server by Schemathesis in CI.
 */
import type { Config } from '../config';
import { PEER_TYPES } from '../enrich/classify';
import { FEED_MAX_MINUTES, FEED_MIN_MINUTES } from './routes/firewall-feeds';
import { STORE_UNAVAILABLE_BODY } from './store-outage';

type Schema = Record<string, unknown>;

const TEXT = 'text/plain; charset=utf-8';
const XML = 'text/xml; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

const integer = (minimum: number, maximum: number, description: string): Schema => ({ type: 'integer', minimum, maximum, description });
const counts: Schema = { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } };

function query(name: string, schema: Schema, description?: string): Schema {
  return { name, in: 'query', required: false, schema, ...(description && { description }) };
}

const ci = query('ci', { type: 'string' }, 'absent or anything else: community data; `0`: private; `-1`: both');
const out = query('out', { type: 'string' }, '`json` for JSON, anything else XML');

function textBody(description: string): Schema {
  return { description, content: { [TEXT]: { schema: { type: 'string' } } } };
}

function jsonBody(description: string, schema: Schema): Schema {
  return { description, content: { [JSON_TYPE]: { schema } } };
}

const retryAfter: Schema = { 'Retry-After': { schema: { type: 'string', pattern: '^[0-9]+$' }, description: 'seconds' } };

const tooMany: Schema = {
  description: 'the client address exceeded a limit (`PUBLIC_RATE_LIMIT`, `AUTH_FAILURES_PER_MINUTE`)',
  headers: retryAfter,
  content: { [TEXT]: { schema: { type: 'string' } } },
};

const UNAVAILABLE_BODIES: Record<'xml' | 'json' | 'text', [string, Schema]> = {
  xml: [XML, { type: 'string', const: STORE_UNAVAILABLE_BODY.xml }],
  json: [JSON_TYPE, { type: 'string', const: JSON.parse(STORE_UNAVAILABLE_BODY.json) as string }],
  text: [TEXT, { type: 'string', const: STORE_UNAVAILABLE_BODY.text }],
};

/** The store is unavailable (src/api/store-outage.ts): 503 with `Retry-After`, in the endpoint's own shapes. */
function storeUnavailable(...shapes: Array<keyof typeof UNAVAILABLE_BODIES>): Schema {
  return {
    description: 'the store is unavailable (node down, timing out, busy): ask again after `Retry-After` seconds',
    headers: retryAfter,
    content: Object.fromEntries(shapes.map((shape) => [UNAVAILABLE_BODIES[shape][0], { schema: UNAVAILABLE_BODIES[shape][1] }])),
  };
}

/** A known path asked with another method: 405, `Allow` naming the right one (server.ts's not-found handler). */
function wrongMethod(needed: 'GET' | 'POST'): Schema {
  return {
    summary: 'not allowed',
    responses: {
      405: {
        ...textBody(`\`${needed} is required for this action.\``),
        headers: { Allow: { schema: { type: 'string', pattern: `^${needed}(, [A-Z]+)*$` }, description: `${needed}, and HEAD and OPTIONS where answered` } },
      },
    },
  };
}

/** A public GET: its answer, or DEFAULTRESPONSE for malformed parameters (text, or a JSON string). */
function publicGet(summary: string, parameters: Schema[], answer: Schema, nopeAsJson = false): Schema {
  const content: Record<string, Schema> = { ...(answer['content'] as Record<string, Schema>) };
  if (nopeAsJson) {
    const json = content[JSON_TYPE]!;
    content[JSON_TYPE] = { schema: { anyOf: [json['schema'], { type: 'string', description: 'DEFAULTRESPONSE' }] } };
  } else {
    content[TEXT] = { schema: { type: 'string', description: 'DEFAULTRESPONSE (`Nope`): a malformed parameter' } };
  }
  const xml = XML in (answer['content'] as Record<string, Schema>);
  return {
    get: {
      summary,
      tags: ['public'],
      parameters: [...parameters, ci],
      responses: { 200: { description: answer['description'], content }, 429: tooMany, 503: storeUnavailable(...(xml ? ['xml', 'json'] as const : ['json'] as const)) },
    },
  };
}

const credentialsBody: Schema = {
  required: true,
  description: 'an `EWS-SimpleMessage` with only `Authentication` (username, token); any content type',
  content: {
    'text/xml': { schema: { type: 'string' }, example: '<EWS-SimpleMessage version="3.0"><Authentication><username>acme</username><token>TOKEN</token></Authentication></EWS-SimpleMessage>' },
  },
};

/** A private POST (credentials in the body), under both of the original's prefixes. */
function privatePost(summary: string, parameters: Schema[], answer: Schema): Schema {
  const json = JSON_TYPE in (answer['content'] as Record<string, Schema>);
  return {
    post: {
      summary,
      tags: ['private'],
      parameters: [...parameters, ci],
      requestBody: credentialsBody,
      responses: {
        200: answer,
        403: textBody('not a user of the store (the community credentials included): `Authentication failed`'),
        413: textBody('body larger than 64 KiB (it carries only credentials)'),
        429: tooMany,
        503: storeUnavailable(...(json ? ['xml', 'json'] as const : ['xml'] as const)),
      },
    },
  };
}

const resultXml = (description: string): Schema => ({
  description,
  content: { [XML]: { schema: { type: 'string' }, example: '<Result><StatusCode>OK</StatusCode><Text></Text></Result>' } },
});

const badIpXml: Schema = {
  description: 'public source addresses of the window with counts, most first (`EWSSimpleIPInfo/Sources/Source/{Address,Count}`; `[{"ip","count"}]` with `out=json`)',
  content: {
    [XML]: { schema: { type: 'string' } },
    [JSON_TYPE]: { schema: { type: 'array', items: { type: 'object', required: ['ip', 'count'], properties: { ip: { type: 'string' }, count: { type: 'integer', minimum: 1 } } } } },
  },
};

const feedFormats: Record<string, [string, string]> = {
  txt: ['text/plain; charset=utf-8', 'one address a line'],
  csv: ['text/csv; charset=utf-8', '`address,count,first_seen,last_seen,classes,sensors`'],
  ipset: ['text/plain; charset=utf-8', 'for `ipset restore`: sets `NAME4`, `NAME6` replaced at once'],
  nft: ['text/plain; charset=utf-8', 'for `nft -f`: table `inet peba`, sets `NAME4`, `NAME6` replaced in one transaction'],
};

function feed(format: string): Schema {
  const [type, description] = feedFormats[format]!;
  return {
    get: {
      summary: `firewall feed: ${description}`,
      tags: ['feeds'],
      security: [{ basic: [] }],
      parameters: [
        query('minutes', integer(FEED_MIN_MINUTES, FEED_MAX_MINUTES, 'window ending now; default BADIPTIMESPAN')),
        query('min_count', integer(1, 1_000_000_000, 'fewest alerts a source must have')),
        query('min_sensors', integer(1, 1_000_000, 'fewest distinct sensors that saw it')),
        query('class', { type: 'array', items: { type: 'string', enum: [...PEER_TYPES].sort() } }, 'honeypot classes whose alerts count (repeat or comma-separate)'),
        query('family', { type: 'string', enum: ['4', '6'] }),
        query('name', { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,24}$' }, 'set base name, default `peba_badips`'),
        ci,
        { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } },
      ],
      responses: {
        200: { description, headers: { ETag: { schema: { type: 'string' } } }, content: { [type]: { schema: { type: 'string' } } } },
        304: { description: 'unchanged since the ETag given in If-None-Match', headers: { ETag: { schema: { type: 'string' } } } },
        400: textBody('a bad parameter, named in the body'),
        401: { ...textBody('missing or wrong credentials of a user of the store'), headers: { 'WWW-Authenticate': { schema: { type: 'string' } } } },
        429: tooMany,
        503: storeUnavailable('text'),
      },
    },
  };
}

const errorJson: Schema = { type: 'object', required: ['error'], properties: { error: { type: 'string' } } };

/** An operator's GET of the dashboard: a signed-in session (cookie) or 401. */
function operatorGet(summary: string, schema: Schema, parameters: Schema[] = []): Schema {
  return {
    get: {
      summary,
      tags: ['dashboard'],
      security: [{ session: [] }],
      parameters: [...parameters, ci],
      responses: { 200: jsonBody(summary, schema), 401: jsonBody('no session', errorJson), 503: storeUnavailable('json') },
    },
  };
}

const heartbeat: Schema = {
  get: {
    summary: 'store and cache state',
    tags: ['operations'],
    parameters: [out],
    responses: {
      200: {
        description: '`I\'m alive`, or with `out=json` each component\'s state',
        content: { [TEXT]: { schema: { type: 'string' } }, [JSON_TYPE]: { schema: { type: 'object', required: ['status', 'components'] } } },
      },
      503: {
        description: '`down: store, cache` (what is down)',
        content: { [TEXT]: { schema: { type: 'string' } }, [JSON_TYPE]: { schema: { type: 'object', required: ['status', 'components'] } } },
      },
    },
  },
};

export function openApiDocument(config: Config): Schema {
  const paths: Record<string, Schema> = {
    '/ews-0.1/alert/postSimpleMessage': {
      post: {
        summary: 'ewsposter delivers alerts (EWS-SimpleMessage 2.0/3.0 XML); acknowledged only once committed',
        tags: ['ingest'],
        requestBody: { required: true, description: 'EWS XML, any content type', content: { 'text/xml': { schema: { type: 'string' } } } },
        responses: {
          200: resultXml('stored (the Text may name skipped invalid alerts)'),
          400: resultXml('not XML, DOCTYPE/ENTITY, wrong root, empty: `Failed` with the reason'),
          403: resultXml('wrong or missing credentials, or a get-only user'),
          413: resultXml(`body over BODY_LIMIT (${config.BODY_LIMIT} bytes here) or more than MAX_ALERTS_PER_MESSAGE alerts`),
          429: { ...resultXml('too many failed authentications from this address'), headers: retryAfter },
          503: {
            description: 'the store could not commit: `Handling failed` (the reason in the Text, `store unavailable` with `Retry-After` when the store is down); the sender retries',
            headers: retryAfter,
            content: { [XML]: { schema: { type: 'string', pattern: '^<Result><StatusCode>Handling failed</StatusCode><Text>' }, example: STORE_UNAVAILABLE_BODY.ingest } },
          },
        },
      },

    },
    '/alert/retrieveAlertsCount': publicGet('alerts received in the last N minutes or since 00:00 UTC', [
      query('time', { anyOf: [{ type: 'integer', minimum: 1, maximum: 10 * 366 * 24 * 60 }, { type: 'string', const: 'day' }] }, 'minutes, or `day`'), out,
    ], {
      description: '`EWSSimpleIPInfo/AlertCount`, or `{"AlertCount"}` with `out=json`',
      content: { [XML]: { schema: { type: 'string' } }, [JSON_TYPE]: { schema: { type: 'object', required: ['AlertCount'], properties: { AlertCount: { type: 'integer', minimum: 0 } } } } },
    }),
    '/alert/retrieveAlertsCountWithType': publicGet('alerts in the last N minutes per honeypot class', [
      query('time', { anyOf: [{ type: 'integer', minimum: 1, maximum: 10 * 366 * 24 * 60 }, { type: 'string', const: 'day' }] }),
    ], jsonBody('totals', { type: 'object', required: ['AlertCountTotal', 'AlertCountPerType'], properties: { AlertCountTotal: { type: 'integer' }, AlertCountPerType: counts } })),
    '/alert/retrieveAlertStats': publicGet('alerts in the last 24 h, hour, 5 minutes, minute', [], jsonBody('counts', {
      type: 'object', required: ['AlertsLast24Hours', 'AlertsLastHour', 'AlertsLast5Minutes', 'AlertsLastMinute'], additionalProperties: { type: 'integer', minimum: 0 },
    })),
    '/alert/retrieveAlertsJson': publicGet('the newest 35 alerts for the ticker', [], jsonBody('`{"alerts": [...]}`', { type: 'object', required: ['alerts'], properties: { alerts: { type: 'array' } } })),
    '/alert/datasetAlertsPerMonth': publicGet('alerts per UTC day since X days or one month ago', [query('days', integer(0, 3660, 'days back'))],
      jsonBody('`[{"datasetAlertsPerMonth": {day: count}}]`', { type: 'array', items: { type: 'object' } }), true),
    '/alert/datasetAlertTypesPerMonth': publicGet('alerts per UTC day and honeypot class', [query('days', integer(0, 3660, 'days back'))],
      jsonBody('`[{"datasetAlertsPerMonth": {day: {class: count}}}]`', { type: 'array', items: { type: 'object' } }), true),
    '/alert/topCountriesAttacks': publicGet('top source and target countries of a calendar month', [
      query('monthOffset', integer(0, 1200, 'months back')), query('offset', integer(0, 1200, 'alias of monthOffset')), query('topx', integer(1, 1000, 'how many')),
    ], jsonBody('one element', { type: 'array', items: { type: 'object', required: ['id', 'date', 'attacksPerCountry', 'attacksToTargetCountry'] } }), true),
    '/alert/retrieveLatLonAttacks': publicGet('top locations of the last 24 h or of a UTC day', [
      query('direction', { type: 'string', enum: ['src', 'dst'] }), query('topx', integer(1, 1000, 'how many')), query('offset', integer(0, 3660, 'days back')),
    ], jsonBody('one element', { type: 'array', items: { type: 'object', required: ['statsSince', 'latLonAttacks'] } })),
    '/alert/TpotStats': publicGet('community honeypots, daemons and alerts of a UTC day', [query('day', { type: 'string', pattern: '^[0-9]{8}$' }, 'YYYYMMDD')],
      jsonBody('summary', { type: 'object', required: ['communityHoneypots', 'UTCtimeFrom', 'UTCtimeTo'] })),
    '/alert/getStats': publicGet('statistics snapshots in a range', [
      query('values', { type: 'string' }, 'comma-separated honeypot classes'), query('value', { type: 'string' }, 'alias of values'),
      query('gte', { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' }), query('lt', { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' }),
    ], jsonBody('snapshots by start time', { type: 'object', additionalProperties: { type: 'object' } })),
    '/alert/tops': publicGet('top URLs or destination ports with timelines', [
      query('type', { type: 'string', enum: ['urls', 'destports'] }), query('topx', integer(1, 30, 'how many')), query('days', { type: 'integer', enum: [1, 7, 28] }),
    ], jsonBody('per key its total and buckets', { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } } })),
    '/heartbeat': heartbeat,
    '/alert/heartbeat': heartbeat,
    '/': {
      get: {
        summary: 'the dashboard page (DASHBOARD=on), else a redirect to CORSDOMAIN',
        tags: ['dashboard'],
        responses: {
          200: { description: 'the page', content: { 'text/html; charset=utf-8': { schema: { type: 'string' } } } },
          302: { description: 'DASHBOARD=off: to CORSDOMAIN', headers: { Location: { schema: { type: 'string' } } } },
          404: textBody('DASHBOARD=off and CORSDOMAIN names this server'),
          503: textBody('the dashboard is not built'),
        },
      },
    },
    '/assets/{name}': {
      get: {
        summary: 'a file of the dashboard (content-hashed name, cached for a year)',
        tags: ['dashboard'],
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'the file', content: { '*/*': { schema: { type: 'string' } } } }, 404: textBody('`Not found`') },
      },
    },
    '/dashboard/stream': {
      get: {
        summary: 'live alerts as server-sent events (an answer that does not end)',
        tags: ['dashboard'],
        parameters: [query('view', { type: 'string' }, '`operator` (signed in) for the operator\'s view')],
        responses: {
          200: { description: 'event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          401: jsonBody('`view=operator` without a session', errorJson),
          503: { ...textBody('too many stream clients'), headers: { 'Retry-After': { schema: { type: 'string' } } } },
        },
      },
    },
    '/dashboard/session': {
      get: { summary: 'who is signed in', tags: ['dashboard'], responses: { 200: jsonBody('`{"user": name or null}`', { type: 'object', required: ['user'] }) } },
      post: {
        summary: 'sign in with the user name and token of a user of the store; sets the session cookie',
        tags: ['dashboard'],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['user', 'token'], properties: { user: { type: 'string' }, token: { type: 'string' } } } } } },
        responses: {
          200: jsonBody('signed in', { type: 'object', required: ['user'] }),
          400: jsonBody('not `{"user","token"}` as application/json', errorJson),
          403: jsonBody('wrong user or token', errorJson),
          429: { ...jsonBody('too many failed sign-ins from this address', errorJson), headers: retryAfter },
          503: storeUnavailable('json'),
        },
      },
      delete: { summary: 'sign out', tags: ['dashboard'], responses: { 204: { description: 'the cookie is cleared' } } },
    },
    '/dashboard/operator/newest': operatorGet('the newest alerts with all fields', { type: 'object', required: ['alerts'] }),
    '/dashboard/operator/bad-ips': operatorGet('the bad-IP list', { type: 'array' }),
    '/dashboard/operator/bad-ips.txt': {
      get: {
        summary: 'the bad-IP list, one address a line',
        tags: ['dashboard'],
        security: [{ session: [] }],
        parameters: [ci],
        responses: { 200: textBody('addresses'), 401: jsonBody('no session', errorJson), 503: storeUnavailable('text') },
      },
    },
    '/dashboard/operator/single-ip': operatorGet('the newest alerts from one address', { type: 'array' }, [query('ip', { type: 'string' })]),
    '/dashboard/operator/sensors': operatorGet('the sensors and when each was last heard of', { type: 'object' }),
    '/openapi.json': { get: { summary: 'this document', tags: ['operations'], responses: { 200: jsonBody('OpenAPI 3.1', { type: 'object', required: ['openapi', 'paths'] }) } } },
    '/docs': { get: { summary: 'this document as a page that works offline', tags: ['operations'], responses: { 200: { description: 'HTML', content: { 'text/html; charset=utf-8': { schema: { type: 'string' } } } } } } },
  };
  for (const prefix of ['/alert', '/ews-0.1/alert']) {
    paths[`${prefix}/retrieveIPs`] = privatePost('bad-IP list of the last BADIPTIMESPAN minutes', [out], badIpXml);
    paths[`${prefix}/retrieveIPs15m`] = privatePost('bad-IP list of the last 15 minutes', [out], badIpXml);
    paths[`${prefix}/retrieveAlertsCyber`] = privatePost('the newest MAXALERTS alerts', [], { description: '`EWSSimpleAlertInfo/Alerts/Alert`', content: { [XML]: { schema: { type: 'string' } } } });
    paths[`${prefix}/querySingleIP`] = privatePost('the newest MAXALERTS alerts from one address', [query('ip', { type: 'string' }, 'an address; `<Alerts />` when invalid or not public')],
      { description: '`EWSSimpleAlertInfo/Alerts/Alert`', content: { [XML]: { schema: { type: 'string' } } } });
  }
  for (const format of Object.keys(feedFormats)) paths[`/feed/badips.${format}`] = feed(format);
  if (config.METRICS === 'on') {
    paths['/metrics'] = {
      get: {
        summary: 'Prometheus metrics',
        tags: ['operations'],
        ...(config.METRICS_TOKEN !== '' && { security: [{ metricsToken: [] }] }),
        responses: {
          200: { description: 'Prometheus text format', content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } } },
          ...(config.METRICS_TOKEN !== '' && { 401: textBody('no or a wrong bearer token') }),
        },
      },
    };
  }
  // Every fixed path answers the other of GET and POST with 405 (a path with a parameter, 404).
  for (const [path, item] of Object.entries(paths)) {
    const [only] = Object.keys(item);
    if (path.includes('{') || Object.keys(item).length !== 1 || (only !== 'get' && only !== 'post')) continue;
    const tags = (item[only] as Schema)['tags'];
    item[only === 'get' ? 'post' : 'get'] = { ...wrongMethod(only === 'get' ? 'GET' : 'POST'), tags };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'PEBA',
      version: '1',
      description: 'Backend of an early-warning system for T-Pot honeypots: ingestion of EWS alerts, statistics, bad-IP lists, firewall feeds.',
    },
    servers: [{ url: '/' }],
    tags: ['ingest', 'public', 'private', 'feeds', 'dashboard', 'operations'].map((name) => ({ name })),
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic', description: 'user name and token of a user of the store' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' },
        session: { type: 'apiKey', in: 'cookie', name: 'peba_session', description: 'set by POST /dashboard/session' },
      },
    },
    paths,
  };
}

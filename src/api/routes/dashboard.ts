/**
 * The dashboard at `/` (DASHBOARD=on): the page, its hashed assets, the live stream and the
 * operator's session and data. Every answer here carries the security headers. With
 * DASHBOARD=off, `/` redirects to CORSDOMAIN as the original did, unless that is this very
 * page (a redirect loop).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../../auth/authenticator';
import type { GuardedAuthenticator } from '../../auth/guarded-authenticator';
import { cookieValue, SESSION_COOKIE, SessionSigner } from '../../auth/sessions';
import type { Config } from '../../config';
import type { AlertStore, UserRecord } from '../../store/store';
import type { AlertStream } from '../../stream/alert-stream';
import { operatorEntry } from '../../stream/alert-stream';
import { isPublicAddress, parseAddress } from '../../net/address';
import { parseUtc } from '../../domain/time';
import { lastMinutes } from '../clock';
import type { DashboardFiles, StaticFile } from '../dashboard-assets';
import { securityHeaders } from '../security-headers';
import { param, scopeOf, type Query } from '../params';
import { logRefusedLogin } from '../access-log';
import { badIpSources } from './private-lists';

export interface DashboardDependencies {
  readonly config: Config;
  readonly store: AlertStore;
  readonly authenticator: Authenticator;
  /** For the sign-in: the brute-force limit per client address. */
  readonly guarded: GuardedAuthenticator;
  /** null: not built (the page says how to build it). */
  readonly files: DashboardFiles | null;
  readonly stream: AlertStream;
}

/** Alerts in the operator's first ticker, as many as retrieveAlertsJson gives the public one. */
const TICKER_SIZE = 35;
const ASSET_CACHE = 'public, max-age=31536000, immutable';
/** A sign-in body is two short strings. */
const MAX_SIGN_IN_BYTES = 4096;

export function registerDashboardRoutes(app: FastifyInstance, deps: DashboardDependencies): void {
  const { config } = deps;
  if (config.DASHBOARD === 'off') {
    app.get('/', async (request, reply) => {
      if (pointsAtItself(config.CORSDOMAIN, request)) {
        return reply.code(404).type('text/plain; charset=utf-8').send('No dashboard here (DASHBOARD=off), and CORSDOMAIN names this server.');
      }
      return reply.redirect(config.CORSDOMAIN);
    });
    return;
  }
  void app.register(async (scope) => {
    scope.addHook('onSend', (request, reply, payload, done) => {
      reply.headers(securityHeaders(request.protocol === 'https'));
      done(null, payload);
    });
    registerPage(scope, deps);
    registerStream(scope, deps);
    registerOperator(scope, deps);
  });
}

/** True when `target` is the root of the server that received `request`. */
function pointsAtItself(target: string, request: FastifyRequest): boolean {
  let url: URL;
  try {
    url = new URL(target, `${request.protocol}://${request.host}`);
  } catch {
    return false;
  }
  return url.host === request.host && (url.pathname === '/' || url.pathname === '');
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: StaticFile, cacheControl: string): FastifyReply {
  const { encoding, bytes } = file.body(request.headers['accept-encoding']);
  reply.type(file.type).header('cache-control', cacheControl).header('vary', 'accept-encoding');
  if (encoding !== 'identity') reply.header('content-encoding', encoding);
  return reply.send(bytes);
}

function registerPage(app: FastifyInstance, { files }: DashboardDependencies): void {
  app.get('/', async (request, reply) => {
    if (!files) return reply.code(503).type('text/plain; charset=utf-8').send('The dashboard is not built: run `npm run build`.');
    // Revalidated every time, so a new release's asset names are picked up at once.
    return sendFile(request, reply, files.index, 'no-cache');
  });
  app.get('/assets/:name', async (request, reply) => {
    const file = files?.assets.get((request.params as { name: string }).name);
    if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    return sendFile(request, reply, file, ASSET_CACHE);
  });
}

/** The operator signed in on this request, if any: a valid cookie of a user still in the store with the same token. */
async function signedIn(request: FastifyRequest, signer: SessionSigner, authenticator: Authenticator): Promise<UserRecord | null> {
  const value = cookieValue(request.headers.cookie, SESSION_COOKIE);
  const claims = value === undefined ? null : signer.read(value);
  if (!claims) return null;
  const user = await authenticator.user(claims.peerName);
  return user && !user.community && signer.verify(value!, user.tokenHash) ? user : null;
}

function registerStream(app: FastifyInstance, { config, stream, authenticator }: DashboardDependencies): void {
  const signer = sessionSigner(config);
  app.get('/dashboard/stream', async (request, reply) => {
    const operator = param(request.query as Query, 'view') === 'operator';
    if (operator && !(await signedIn(request, signer, authenticator))) {
      return reply.code(401).type('application/json; charset=utf-8').send({ error: 'sign in first' });
    }
    if (stream.clientCount >= config.STREAM_MAX_CLIENTS) {
      return reply.code(503).header('retry-after', '30').type('text/plain; charset=utf-8').send('Too many stream clients');
    }
    reply.hijack();
    stream.attach(reply.raw, operator ? 'operator' : 'public', securityHeaders(request.protocol === 'https'));
    return reply;
  });
}

/** One signer per secret: sessions issued by one route are read by the others. */
const signers = new WeakMap<Config, SessionSigner>();
function sessionSigner(config: Config): SessionSigner {
  let signer = signers.get(config);
  if (!signer) {
    signer = new SessionSigner(config.SESSION_SECRET, config.SESSION_HOURS * 3_600_000);
    signers.set(config, signer);
  }
  return signer;
}

function registerOperator(app: FastifyInstance, { config, store, authenticator, guarded }: DashboardDependencies): void {
  const signer = sessionSigner(config);
  const json = (reply: FastifyReply, status: number, body: unknown): FastifyReply =>
    reply.code(status).type('application/json; charset=utf-8').header('cache-control', 'no-store').send(JSON.stringify(body));
  const cookie = (request: FastifyRequest, value: string, maxAge: number): string =>
    `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${request.protocol === 'https' ? '; Secure' : ''}`;

  app.get('/dashboard/session', async (request, reply) => {
    const user = await signedIn(request, signer, authenticator);
    return json(reply, 200, { user: user?.peerName ?? null });
  });

  app.post('/dashboard/session', async (request, reply) => {
    // JSON only: a cross-site form cannot send it without a preflight this server never allows.
    const body = typeof request.body === 'string' ? request.body : '';
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '') || body.length > MAX_SIGN_IN_BYTES) {
      return json(reply, 400, { error: 'expected {"user","token"} as application/json' });
    }
    let credentials: unknown;
    try {
      credentials = JSON.parse(body);
    } catch {
      return json(reply, 400, { error: 'malformed JSON' });
    }
    const { user, token } = (credentials ?? {}) as { user?: unknown; token?: unknown };
    if (typeof user !== 'string' || typeof token !== 'string') return json(reply, 400, { error: 'expected {"user","token"}' });
    const { identity, retryAfterSeconds } = await guarded.authenticate(request.ip, { username: user, token });
    if (retryAfterSeconds !== undefined) return json(reply.header('retry-after', String(retryAfterSeconds)), 429, { error: 'too many failed sign-ins from this address, retry later' });
    if (identity?.domain !== 'private') {
      logRefusedLogin(request, user, identity ? 'community credentials may not sign in' : 'wrong username or token');
      return json(reply, 403, { error: 'wrong user or token' });
    }
    reply.header('set-cookie', cookie(request, signer.issue(identity.user.peerName, identity.user.tokenHash), signer.lifetimeSeconds));
    return json(reply, 200, { user: identity.user.peerName });
  });

  app.delete('/dashboard/session', async (request, reply) => {
    reply.header('set-cookie', cookie(request, '', 0));
    return reply.code(204).send();
  });

  void app.register(async (operator) => {
    operator.addHook('preHandler', async (request, reply) => {
      if (!(await signedIn(request, signer, authenticator))) return json(reply, 401, { error: 'sign in first' });
    });

    operator.get('/dashboard/operator/newest', async (request, reply) => {
      const alerts = await store.newestReceived(scopeOf(request.query as Query), TICKER_SIZE);
      return json(reply, 200, { alerts: alerts.map(operatorEntry) });
    });

    operator.get('/dashboard/operator/bad-ips', async (request, reply) => {
      const sources = await badIpSources(store, scopeOf(request.query as Query), config.BADIPTIMESPAN);
      return json(reply, 200, sources.map(({ key, count }) => ({ ip: key, count })));
    });

    operator.get('/dashboard/operator/bad-ips.txt', async (request, reply) => {
      const sources = await badIpSources(store, scopeOf(request.query as Query), config.BADIPTIMESPAN);
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store')
        .header('content-disposition', 'attachment; filename="bad-ips.txt"')
        .send(sources.map(({ key }) => `${key}\n`).join(''));
    });

    operator.get('/dashboard/operator/single-ip', async (request, reply) => {
      const query = request.query as Query;
      const address = parseAddress(param(query, 'ip') ?? '');
      const alerts = address && isPublicAddress(address) ? await store.newestFromSource(scopeOf(query), address.text, config.MAXALERTS) : [];
      return json(reply, 200, alerts.map(({ id, document: doc }) => ({
        id, createTime: doc.createTime, peerType: doc.peerType, targetCountry: doc.targetCountry, request: doc.originalRequestString,
      })));
    });

    operator.get('/dashboard/operator/sensors', async (request, reply) => {
      const scope = scopeOf(request.query as Query);
      const now = Date.now();
      const [day, hour] = await Promise.all([store.sensorsReceived(scope, lastMinutes(now, 1440)), store.sensorsReceived(scope, lastMinutes(now, 60))]);
      const inHour = new Map(hour.map((s) => [s.sensor, s.alerts]));
      const staleBefore = now - config.SENSOR_STALE_MINUTES * 60_000;
      return json(reply, 200, {
        staleMinutes: config.SENSOR_STALE_MINUTES,
        sensors: day.map((s) => ({
          sensor: s.sensor,
          lastReceived: s.lastReceived,
          lastHour: inHour.get(s.sensor) ?? 0,
          lastDay: s.alerts,
          peerTypes: s.peerTypes,
          stale: parseUtc(s.lastReceived) < staleBefore,
        })),
      });
    });
  });
}

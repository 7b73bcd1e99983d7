/**
 * The private endpoints (CONTRACT section 5): POST with credentials in an EWS body; only users
 * of the user store may ask, never the community credentials.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GuardedAuthenticator } from '../../auth/guarded-authenticator';
import type { Config } from '../../config';
import { EwsMessageError, parseEwsMessage } from '../../ingest/ews-message';
import { isPublicAddress, parseAddress } from '../../net/address';
import { isPublicText } from '../../net/public-text';
import type { DomainScope, KeyCount } from '../../domain/query';
import type { AlertStore } from '../../store/store';
import { lastMinutes } from '../clock';
import { logRefusedLogin } from '../access-log';
import { sendTooMany, TOO_MANY_FAILURES } from '../too-many';
import { cyberAlertElement, singleIpAlertElement } from '../format/alert-views';
import { badIpListJson, badIpListXml } from '../format/bad-ip-list';
import { xmlDocument, type XmlElement } from '../format/xml';
import { param, scopeOf, wantsJson, type Query } from '../params';

export interface PrivateRouteDependencies {
  readonly config: Config;
  readonly store: AlertStore;
  readonly authenticator: GuardedAuthenticator;
}

/** The prefixes under which the original served these endpoints. */
const PREFIXES = ['/alert', '/ews-0.1/alert'];
/** The body is only credentials: anything larger is not a question, and is not read on (413). */
export const PRIVATE_BODY_LIMIT = 64 * 1024;
const LIMITED = { bodyLimit: PRIVATE_BODY_LIMIT };

export function registerPrivateRoutes(app: FastifyInstance, { config, store, authenticator }: PrivateRouteDependencies): void {
  /** True when the body carries the credentials of a user of the store; answers 403 otherwise. */
  async function authorized(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const body = typeof request.body === 'string' ? request.body : '';
    let credentials = null;
    let reason = 'no credentials';
    try {
      credentials = body.trim() === '' ? null : parseEwsMessage(body, { maxAlerts: 1000 }).credentials;
    } catch (error) {
      if (!(error instanceof EwsMessageError)) throw error;
      reason = error.message;
    }
    const { identity, retryAfterSeconds } = await authenticator.authenticate(request.ip, credentials);
    if (retryAfterSeconds !== undefined) {
      await sendTooMany(reply, retryAfterSeconds, TOO_MANY_FAILURES);
      return false;
    }
    if (identity?.domain === 'private') return true;
    if (credentials) reason = identity ? 'community credentials may not query' : 'wrong username or token';
    logRefusedLogin(request, credentials?.username ?? null, reason);
    await reply.code(403).type('text/plain; charset=utf-8').send('Authentication failed');
    return false;
  }

  const badIps = (minutes: () => number) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (!(await authorized(request, reply))) return reply;
    const query = request.query as Query;
    const sources = await badIpSources(store, scopeOf(query), minutes());
    if (wantsJson(query)) return reply.type('application/json; charset=utf-8').send(badIpListJson(sources));
    return reply.type('text/xml; charset=utf-8').send(badIpListXml(sources));
  };

  for (const prefix of PREFIXES) {
    app.post(`${prefix}/retrieveIPs`, LIMITED, badIps(() => config.BADIPTIMESPAN));
    app.post(`${prefix}/retrieveIPs15m`, LIMITED, badIps(() => 15));

    app.post(`${prefix}/retrieveAlertsCyber`, LIMITED, async (request, reply) => {
      if (!(await authorized(request, reply))) return reply;
      const alerts = await store.newestReceived(scopeOf(request.query as Query), config.MAXALERTS);
      return sendXml(reply, { name: 'EWSSimpleAlertInfo', children: [{ name: 'Alerts', children: alerts.map(cyberAlertElement) }] });
    });

    app.post(`${prefix}/querySingleIP`, LIMITED, async (request, reply) => {
      if (!(await authorized(request, reply))) return reply;
      const query = request.query as Query;
      const address = parseAddress(param(query, 'ip') ?? '');
      const alerts = address && isPublicAddress(address)
        ? await store.newestFromSource(scopeOf(query), address.text, config.MAXALERTS)
        : [];
      return sendXml(reply, { name: 'EWSSimpleAlertInfo', children: [{ name: 'Alerts', children: alerts.map(singleIpAlertElement) }] });
    });
  }
}

/** The bad-IP list: public source addresses of the last `minutes` with their counts, most first. */
export async function badIpSources(store: AlertStore, scope: DomainScope, minutes: number): Promise<KeyCount[]> {
  return (await store.sourcesReceived(scope, lastMinutes(Date.now(), minutes))).filter(({ key }) => isPublicText(key));
}

export function sendXml(reply: FastifyReply, root: XmlElement): FastifyReply {
  return reply.type('text/xml; charset=utf-8').send(xmlDocument(root));
}

/**
 * Firewall feeds (ours): the bad-IP list in shapes firewalls load (plain text, CSV, `ipset
 * restore`, nftables), with conditions, for users of the store (HTTP Basic: user name and
 * token). Never lists non-public addresses or the networks of the exclude list. `ETag` and
 * `If-None-Match` let a cron job skip reloading an unchanged list.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { basicCredentials } from '../../auth/basic-credentials';
import type { GuardedAuthenticator } from '../../auth/guarded-authenticator';
import type { Config } from '../../config';
import type { DomainScope, SourceActivity, SourceActivityQuery } from '../../domain/query';
import { PEER_TYPES } from '../../enrich/classify';
import type { ExcludedNetworks, NetworkMatcher } from '../../net/excluded-networks';
import { isPublicText } from '../../net/public-text';
import type { AlertStore } from '../../store/store';
import { lastMinutes } from '../clock';
import { sendTooMany, TOO_MANY_FAILURES } from '../too-many';
import { FEED_CONTENT_TYPES, FEED_FORMATS, formatFeed, type FeedShape } from '../format/firewall-feeds';
import { integerParam, param, scopeOf, type Query } from '../params';

export const FEED_MIN_MINUTES = 15;
export const FEED_MAX_MINUTES = 7 * 24 * 60;
const SET_NAME = /^[A-Za-z][A-Za-z0-9_]{0,24}$/;

export interface FeedRouteDependencies {
  readonly config: Config;
  readonly store: AlertStore;
  readonly authenticator: GuardedAuthenticator;
  readonly excluded: ExcludedNetworks;
}

interface FeedRequest {
  readonly scope: DomainScope;
  readonly query: Omit<SourceActivityQuery, 'range'> & { readonly minutes: number };
  readonly shape: FeedShape;
}

/** The feed's parameters, or the message of a 400 naming the first bad one. */
export function feedRequest(query: Query, defaultMinutes: number): FeedRequest | string {
  const number = (name: string, fallback: number, min: number, max: number): number | string => {
    const raw = param(query, name);
    if (raw === undefined) return fallback;
    return integerParam(raw, min, max) ?? `${name}: expected a whole number in ${min}..${max}`;
  };
  const minutes = number('minutes', Math.min(FEED_MAX_MINUTES, Math.max(FEED_MIN_MINUTES, defaultMinutes)), FEED_MIN_MINUTES, FEED_MAX_MINUTES);
  const minAlerts = number('min_count', 1, 1, 1_000_000_000);
  const minSensors = number('min_sensors', 1, 1, 1_000_000);
  for (const value of [minutes, minAlerts, minSensors]) if (typeof value === 'string') return value;
  const rawClasses = query['class'];
  const peerTypes = [...new Set((Array.isArray(rawClasses) ? rawClasses : rawClasses === undefined ? [] : [rawClasses])
    .flatMap((c) => c.split(',')).map((c) => c.trim()).filter((c) => c !== ''))].sort();
  const unknown = peerTypes.find((c) => !PEER_TYPES.has(c));
  if (unknown !== undefined) return `class: unknown honeypot class ${JSON.stringify(unknown.slice(0, 100))}`;
  const familyText = param(query, 'family');
  if (familyText !== undefined && familyText !== '4' && familyText !== '6') return 'family: expected 4 or 6';
  const family = familyText === undefined ? undefined : familyText === '6' ? 6 : 4;
  const setName = param(query, 'name') ?? 'peba_badips';
  if (!SET_NAME.test(setName)) return 'name: expected a letter, then up to 24 letters, digits or _';
  return {
    scope: scopeOf(query),
    query: { minutes: minutes as number, peerTypes, ...(family && { family }), minAlerts: minAlerts as number, minSensors: minSensors as number },
    shape: { setName, families: family ? [family] : [4, 6] },
  };
}

/** Strong validator of a body: its digest. */
function entityTag(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/** Does `If-None-Match` name this tag (or `*`)? Weak comparison, as RFC 9110 wants for it. */
function matchesTag(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((part) => {
    const candidate = part.trim().replace(/^W\//, '');
    return candidate === '*' || candidate === tag;
  });
}

export function registerFeedRoutes(app: FastifyInstance, { config, store, authenticator, excluded }: FeedRouteDependencies): void {
  /**
   * Per exclude list (the same object until the file changes), whether a source may be listed,
   * by the store's answer object: the stores hand out the same objects for the sources of their
   * kept hours at every question, and a lookup by object is several times cheaper than one by
   * address text (bench/README.md, "Firewall feeds: kept hours that move").
   */
  const listedByList = new WeakMap<NetworkMatcher, WeakMap<SourceActivity, boolean>>();

  for (const format of FEED_FORMATS) {
    app.get(`/feed/badips.${format}`, async (request: FastifyRequest, reply: FastifyReply) => {
      reply.header('cache-control', 'private, no-cache');
      const { identity, retryAfterSeconds } = await authenticator.authenticate(request.ip, basicCredentials(request.headers.authorization));
      if (retryAfterSeconds !== undefined) return sendTooMany(reply, retryAfterSeconds, TOO_MANY_FAILURES);
      if (identity?.domain !== 'private') {
        return reply.code(401).header('www-authenticate', 'Basic realm="peba feeds", charset="UTF-8"')
          .type('text/plain; charset=utf-8').send('Authentication failed');
      }
      const wanted = feedRequest(request.query as Query, config.BADIPTIMESPAN);
      if (typeof wanted === 'string') return reply.code(400).type('text/plain; charset=utf-8').send(wanted);
      const { minutes, ...conditions } = wanted.query;
      const exclude = excluded.current();
      let listed = listedByList.get(exclude);
      if (listed === undefined) listedByList.set(exclude, listed = new WeakMap());
      const known = listed;
      const sources = (await store.sourceActivity(wanted.scope, { ...conditions, range: lastMinutes(Date.now(), minutes) }))
        .filter((s) => {
          let isListed = known.get(s);
          if (isListed === undefined) {
            isListed = isPublicText(s.address) && !exclude.contains(s.address);
            known.set(s, isListed);
          }
          return isListed;
        });
      const body = formatFeed(format, sources, wanted.shape);
      const tag = entityTag(body);
      reply.header('etag', tag);
      if (matchesTag(request.headers['if-none-match'], tag)) return reply.code(304).send();
      return reply.type(FEED_CONTENT_TYPES[format]).send(body);
    });
  }
}

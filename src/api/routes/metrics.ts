/** `GET /metrics`: the Prometheus text format; behind a bearer token when METRICS_TOKEN is set. */
import type { FastifyInstance } from 'fastify';
import { secretsEqual } from '../../auth/tokens';
import type { Metrics } from '../../metrics/metrics';

export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, token: string): void {
  metrics.collectProcessMetrics();
  app.get('/metrics', async (request, reply) => {
    if (token !== '') {
      const given = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
      // Compared through their digests: constant time whatever the length.
      if (!secretsEqual(given.trim(), token)) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').type('text/plain; charset=utf-8').send('Unauthorized');
      }
    }
    const text = await metrics.registry.metrics();
    return reply.header('cache-control', 'no-store').type(metrics.registry.contentType).send(text);
  });
}

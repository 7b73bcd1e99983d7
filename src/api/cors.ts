/**
 * CORS as the original sent it (CONTRACT section 7): credentials allowed on every answer, the
 * configured origin on answers under /alert/. One rule for the Fastify hook and the hit lane.
 */
export function corsHeaders(url: string, corsDomain: string): Record<string, string> {
  return url.startsWith('/alert/')
    ? { 'access-control-allow-credentials': 'true', 'access-control-allow-origin': corsDomain }
    : { 'access-control-allow-credentials': 'true' };
}

/**
 * CORS as the original sent it (CONTRACT section 7): credentials allowed on every answer, the
 * configured origin on answers under /alert/, and (ours) under /ews-0.1/alert/, where the private
 * endpoints are served too: a page on CORSDOMAIN may ask either. One rule for the Fastify hook,
 * the hit lane and the preflight answers.
 */
export function isCorsPath(url: string): boolean {
  return url.startsWith('/alert/') || url.startsWith('/ews-0.1/alert/');
}

export function corsHeaders(url: string, corsDomain: string): Record<string, string> {
  return isCorsPath(url)
    ? { 'access-control-allow-credentials': 'true', 'access-control-allow-origin': corsDomain }
    : { 'access-control-allow-credentials': 'true' };
}

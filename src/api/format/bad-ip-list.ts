/**
 * The bad-IP list (retrieveIPs) in its two formats. It is the one answer that grows with the
 * attack rate (tens of thousands of sources at high rates), so it is written by a fixed template
 * rather than through the generic element tree: the same bytes as xmlDocument() would write.
 */
import type { KeyCount } from '../../domain/query';
import { escapeXml } from './xml';

export function badIpListXml(sources: readonly KeyCount[]): string {
  if (sources.length === 0) return '<?xml version="1.0" encoding="UTF-8"?><EWSSimpleIPInfo>\n  <Sources />\n</EWSSimpleIPInfo>\n';
  let xml = '<?xml version="1.0" encoding="UTF-8"?><EWSSimpleIPInfo>\n  <Sources>\n';
  for (const { key, count } of sources) {
    xml += `    <Source>\n      <Address>${escapeXml(key)}</Address>\n      <Count>${count}</Count>\n    </Source>\n`;
  }
  return `${xml}  </Sources>\n</EWSSimpleIPInfo>\n`;
}

/** `[{"ip":"1.2.3.4","count":3}, ...]` */
export function badIpListJson(sources: readonly KeyCount[]): string {
  let json = '[';
  for (let i = 0; i < sources.length; i++) {
    const { key, count } = sources[i]!;
    json += `${i === 0 ? '' : ','}{"ip":${JSON.stringify(key)},"count":${count}}`;
  }
  return `${json}]`;
}

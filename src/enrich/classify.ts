/**
 * peerType classification: the one place that maps a honeypot to its class.
 *
 * Ordered substring rules, first match wins (CONTRACT section 3). The first block is the
 * original PEBA table, unchanged; the second covers the honeypots current ewsposter ships.
 * Matching is case-insensitive, because the same rules also classify the free-text
 * `Request type="description"` ("Telnet Honeypot Cowrie") when the analyzer id says nothing.
 */
export const UNCLASSIFIED = 'Unclassified';

export const PEER_TYPE_RULES: ReadonlyArray<readonly [readonly string[], string]> = [
  // Original PEBA.
  [['WebHoneypot'], 'Webpage'],
  [['dionaea', '.dio'], 'Network(Dionaea)'],
  [['honeytrap', '.ht'], 'Network(honeytrap)'],
  [['kippo', '.kip', 'cowrie', '.cow'], 'SSH/console(cowrie)'],
  [['glastopf', '.gt3', 'tanner', '.tan'], 'Webpage'],
  [['vnclowpot', '.vnc'], 'VNC(vnclowpot)'],
  [['rdpy', '.rdp'], 'RDP(rdpy)'],
  [['mailoney', '.mail'], 'E-Mail(mailoney)'],
  [['heralding', '.her'], 'Passwords(heralding)'],
  [['ciscoasa'], 'Network(cisco-asa)'],
  [['elasticpot', '.elk'], 'Service(ES)'],
  [['suricata'], 'Network(suricata)'],
  [['medpot'], 'Service(Medicine)'],
  [['emobility'], 'Service(emobility)'],
  [['conpot', '.con'], 'Industrial(conpot)'],
  [['glutton'], 'Network(glutton)'],
  // Honeypots of current ewsposter releases.
  [['adbhoney'], 'Android(adbhoney)'],
  [['beelzebub'], 'SSH/console(beelzebub)'],
  [['citrix'], 'Service(citrix)'],
  [['ddospot'], 'Network(ddospot)'],
  [['dicompot'], 'Service(dicompot)'],
  [['endlessh'], 'SSH/console(endlessh)'],
  [['fatt'], 'Network(fatt)'],
  [['galah'], 'Webpage(galah)'],
  [['gopot', 'go-pot'], 'Webpage(go-pot)'],
  [['h0neytr4p'], 'Webpage(h0neytr4p)'],
  [['hellpot'], 'Webpage(hellpot)'],
  [['honeyaml'], 'Service(honeyaml)'],
  [['honeypy'], 'Network(honeypy)'],
  [['honeysap'], 'Service(honeysap)'],
  [['ipphoney'], 'Printer(ipphoney)'],
  [['log4pot'], 'Service(log4pot)'],
  [['miniprint'], 'Printer(miniprint)'],
  [['redishoneypot'], 'Service(redishoneypot)'],
  [['sentrypeer'], 'VoIP(sentrypeer)'],
  [['wordpot'], 'Webpage(wordpot)'],
  // Last: "honeypots" is also a plain English word in descriptions.
  [['honeypots'], 'Network(honeypots)'],
];

/** Every honeypot class the rules can give (what a peerType filter may name). */
export const PEER_TYPES: ReadonlySet<string> = new Set([...PEER_TYPE_RULES.map(([, type]) => type), UNCLASSIFIED]);

const LOWERED_RULES = PEER_TYPE_RULES.map(
  ([needles, peerType]) => [needles.map((n) => n.toLowerCase()), peerType] as const,
);

function match(text: string): string | undefined {
  const lowered = text.toLowerCase();
  for (const [needles, peerType] of LOWERED_RULES) {
    for (const needle of needles) if (lowered.includes(needle)) return peerType;
  }
  return undefined;
}

/** The peerType of an alert from its analyzer id, else its description, else Unclassified. */
export function classifyPeer(analyzerId: string, description: string | undefined): string {
  return match(analyzerId) ?? (description ? match(description) : undefined) ?? UNCLASSIFIED;
}

/** Honeypot classes whose alerts carry a request string of `Attack on port N/proto`. */
export const PORT_ATTACK_TYPES: ReadonlySet<string> = new Set(['Network(honeytrap)', 'Network(Dionaea)']);

/** Honeypot classes whose payloads go to the payload store (CONTRACT section 2). */
export function keepsPayloads(peerType: string): boolean {
  return PORT_ATTACK_TYPES.has(peerType) || peerType.startsWith('Webpage') || peerType === 'Network(glutton)';
}

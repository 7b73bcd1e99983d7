/** Colours of the honeypot classes (the part of peerType before the parenthesis). */
const PALETTE: Record<string, string> = {
  'SSH/console': '#4cc9f0',
  Network: '#f72585',
  Webpage: '#ffd166',
  Service: '#06d6a0',
  Industrial: '#ff8c42',
  Passwords: '#b388ff',
  'E-Mail': '#90be6d',
  RDP: '#f94144',
  VNC: '#43aa8b',
  Printer: '#c0a080',
  VoIP: '#577590',
  Android: '#a0e426',
};
const OTHER = '#9aa5b1';

/** `SSH/console(cowrie)` -> `SSH/console`. */
export function classOf(peerType: string): string {
  const paren = peerType.indexOf('(');
  return paren > 0 ? peerType.slice(0, paren) : peerType;
}

export function colourOf(peerType: string): string {
  return PALETTE[classOf(peerType)] ?? OTHER;
}

export const KNOWN_CLASSES = Object.keys(PALETTE);

/** XML text for replies. Everything that came from the network is escaped. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

const NEEDS_ESCAPING = /[&<>\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

/**
 * Element text as Python's ElementTree writes it (CONTRACT section 6): only `& < >` are escaped,
 * so a `"` in a request string stays `"` as clients of the original read it. Our replies have
 * no attributes; element text needs nothing more.
 */
export function escapeXml(text: string): string {
  if (!NEEDS_ESCAPING.test(text)) return text;
  // Characters XML 1.0 cannot carry at all are dropped rather than producing invalid XML.
  return text.replace(/[&<>]/g, (c) => ESCAPES[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
}

/** The reply ewsposter reads: it looks for `<StatusCode>OK</StatusCode>`. */
export function resultXml(statusCode: string, text: string): string {
  return `<Result><StatusCode>${escapeXml(statusCode)}</StatusCode><Text>${escapeXml(text)}</Text></Result>`;
}

/** An element of a reply document: text, children, or neither (written `<Name />`). */
export interface XmlElement {
  readonly name: string;
  readonly text?: string | number;
  readonly children?: readonly XmlElement[];
}

/**
 * The byte layout existing clients parse (CONTRACT section 5): the declaration glued to the
 * root, two-space indentation, one element per line, `<Name />` when empty, a final line break.
 */
export function xmlDocument(root: XmlElement): string {
  const parts = ['<?xml version="1.0" encoding="UTF-8"?>'];
  renderElement(root, 0, parts);
  return parts.join('');
}

/** Appends to one array: lists of tens of thousands of elements stay cheap. */
function renderElement(element: XmlElement, depth: number, parts: string[]): void {
  const indent = depth === 0 ? '' : '  '.repeat(depth);
  const text = element.text === undefined ? '' : String(element.text);
  const children = element.children ?? [];
  if (text !== '') {
    parts.push(`${indent}<${element.name}>${escapeXml(text)}</${element.name}>\n`);
  } else if (children.length === 0) {
    parts.push(`${indent}<${element.name} />\n`);
  } else {
    parts.push(`${indent}<${element.name}>\n`);
    for (const child of children) renderElement(child, depth + 1, parts);
    parts.push(`${indent}</${element.name}>\n`);
  }
}

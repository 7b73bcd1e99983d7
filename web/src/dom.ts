/**
 * DOM helpers. Every string that came from a sensor is attacker-controlled: it only ever goes in
 * through textContent (never innerHTML, never an attribute that is parsed), so it shows as text.
 */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} missing from the page`);
  return element as T;
}

/** A new element with text content and class names. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string | number, className?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (text !== undefined) element.textContent = String(text);
  if (className) element.className = className;
  return element;
}

const SVG = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/** A table row of text cells; `numeric` cells are right-aligned. */
export function row(cells: ReadonlyArray<string | number | Node>, numeric: readonly number[] = []): HTMLTableRowElement {
  const tr = el('tr');
  cells.forEach((cell, i) => {
    const td = el('td', typeof cell === 'object' ? undefined : cell, numeric.includes(i) ? 'num' : undefined);
    if (typeof cell === 'object') td.append(cell);
    tr.append(td);
  });
  return tr;
}

export function replaceRows(body: HTMLElement, rows: readonly Node[], empty = 'no data'): void {
  if (rows.length === 0) {
    const tr = el('tr');
    const td = el('td', empty, 'empty');
    td.colSpan = 5;
    tr.append(td);
    body.replaceChildren(tr);
  } else {
    body.replaceChildren(...rows);
  }
}

const formatter = new Intl.NumberFormat('en-US');
export const formatCount = (n: number): string => formatter.format(n);

/**
 * retrieveAlertsJson HTML-escapes request strings for dashboards that use innerHTML (CONTRACT
 * section 6); shown as text, they are unescaped first so `<` reads as `<`, not `&lt;`.
 */
export function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#x27);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#x27': "'" })[name] ?? '');
}

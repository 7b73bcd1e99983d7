/** Small SVG charts drawn by hand: a stacked bar per day and sparklines, no chart library needed. */
import { classOf, colourOf } from './classes';
import { formatCount, svg } from './dom';

/** day label -> peerType -> count */
export type PerDay = ReadonlyMap<string, ReadonlyMap<string, number>>;

export function stackedBars(container: HTMLElement, perDay: PerDay): void {
  const days = [...perDay.keys()].sort();
  const width = 760;
  const height = 220;
  const bottom = 22;
  const left = 48;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'bars' });
  const totals = days.map((d) => [...perDay.get(d)!.values()].reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const title = svg('title');
  title.textContent = `Attacks per day over ${days.length} days, largest day ${formatCount(max)}`;
  root.append(title);
  const step = days.length > 0 ? (width - left) / days.length : 0;
  const scale = (height - bottom - 8) / max;
  for (const tick of [0, 0.5, 1]) {
    const y = height - bottom - tick * max * scale;
    root.append(svg('line', { x1: left, x2: width, y1: y, y2: y, class: 'grid' }));
    const label = svg('text', { x: left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' });
    label.textContent = formatCount(Math.round(tick * max));
    root.append(label);
  }
  days.forEach((day, i) => {
    let y = height - bottom;
    const group = svg('g');
    const byClass = new Map<string, number>();
    for (const [type, count] of perDay.get(day)!) byClass.set(classOf(type), (byClass.get(classOf(type)) ?? 0) + count);
    for (const [cls, count] of [...byClass].sort()) {
      const h = count * scale;
      y -= h;
      const bar = svg('rect', { x: left + i * step + 1, y, width: Math.max(1, step - 2), height: h, fill: colourOf(`${cls}(`) });
      const tip = svg('title');
      tip.textContent = `${day.slice(0, 10)} ${cls}: ${formatCount(count)}`;
      bar.append(tip);
      group.append(bar);
    }
    const total = svg('title');
    total.textContent = `${day.slice(0, 10)}: ${formatCount(totals[i]!)}`;
    group.prepend(total);
    group.dataset['day'] = day.slice(0, 10);
    group.dataset['total'] = String(totals[i]);
    root.append(group);
    if (i % Math.ceil(days.length / 8) === 0) {
      const label = svg('text', { x: left + i * step + step / 2, y: height - 6, 'text-anchor': 'middle', class: 'axis' });
      label.textContent = day.slice(5, 10);
      root.append(label);
    }
  });
  container.replaceChildren(root);
}

export function sparkline(values: readonly number[], label: string): SVGSVGElement {
  const width = 120;
  const height = 24;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'spark', role: 'img' });
  const title = svg('title');
  title.textContent = label;
  root.append(title, svg('polyline', { points, fill: 'none' }));
  return root;
}

/**
 * The world map: country shapes (SVG, shaded by attacks from each country) with a canvas on top
 * where each live alert draws an arc from its source to its target location. Arcs are drawn in
 * one animation loop that runs only while arcs are alive, and their number is capped, so a burst
 * of alerts costs a bounded amount of work per frame. The stream sends a batch a second: the
 * page spreads each batch's arcs over part of that second rather than drawing them all at once.
 */
import { geoNaturalEarth1, geoPath, type GeoProjection } from 'd3-geo';
import { feature } from 'topojson-client';
import type { Topology, GeometryCollection } from 'topojson-specification';
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import { colourOf } from './classes';
import { formatCount, svg } from './dom';

interface CountryProperties {
  name?: string;
}

interface Arc {
  readonly from: [number, number];
  readonly to: [number, number];
  readonly colour: string;
  readonly born: number;
}

/** An arc to draw from `due` on (performance.now() time). */
interface DueArc {
  readonly id: string;
  readonly from: [number, number];
  readonly to: [number, number];
  readonly colour: string;
  readonly due: number;
}

/** Arcs alive at once; the oldest go first. */
const MAX_ARCS = 300;
const GROW_MS = 700;
const LIFE_MS = 2500;
const SEGMENTS = 16;
const FRAME_MS = 30;

export class WorldMap {
  private readonly svgRoot = svg('svg', { class: 'countries', 'aria-hidden': 'true' });
  private readonly canvas = document.createElement('canvas');
  private readonly context: CanvasRenderingContext2D;
  private countries: Array<Feature<Geometry, CountryProperties>> = [];
  private readonly paths = new Map<string, SVGPathElement[]>();
  private projection: GeoProjection = geoNaturalEarth1();
  private arcs: Arc[] = [];
  private waiting: DueArc[] = [];
  private frame = 0;
  private width = 0;
  private height = 0;
  private volumes = new Map<string, { count: number; name: string }>();
  private arcsDrawn = 0;
  private lastFrame = 0;

  constructor(private readonly container: HTMLElement) {
    this.canvas.className = 'arcs';
    this.canvas.setAttribute('aria-hidden', 'true');
    this.context = this.canvas.getContext('2d')!;
    container.append(this.svgRoot, this.canvas);
    new ResizeObserver(() => this.layout()).observe(container);
  }

  async load(url: string): Promise<void> {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`map: ${response.status}`);
    const topology = (await response.json()) as Topology<{ countries: GeometryCollection<CountryProperties> }>;
    const collection = feature(topology, topology.objects.countries) as FeatureCollection<Geometry, CountryProperties>;
    this.countries = collection.features;
    this.layout(true);
  }

  /** Shades each country by its count (ISO alpha-2 code -> count). */
  shade(volumes: ReadonlyMap<string, { count: number; name: string }>): void {
    this.volumes = new Map(volumes);
    this.applyShading();
  }

  /**
   * Draws an arc for an alert `delayMs` from now (with the next frame when 0); announces it with
   * an `arc` event on the map element when it appears.
   */
  addArc(id: string, from: [number, number], to: [number, number], peerType: string, delayMs = 0): void {
    if (this.waiting.length >= MAX_ARCS) this.waiting.shift();
    this.waiting.push({ id, from, to, colour: colourOf(peerType), due: performance.now() + delayMs });
    if (this.frame === 0) this.frame = requestAnimationFrame((t) => this.draw(t));
  }

  /** Moves the arcs that are due to the drawn ones. */
  private release(now: number): void {
    const due = this.waiting.filter((arc) => arc.due <= now);
    if (due.length === 0) return;
    this.waiting = this.waiting.filter((arc) => arc.due > now);
    for (const arc of due) {
      if (this.arcs.length >= MAX_ARCS) this.arcs.shift();
      this.arcs.push({ from: arc.from, to: arc.to, colour: arc.colour, born: now });
      this.arcsDrawn++;
      this.container.dispatchEvent(new CustomEvent('arc', { detail: { id: arc.id } }));
    }
  }

  /** Fits the map to the container's width; `force` redraws at an unchanged size (the shapes arrived). */
  private layout(force = false): void {
    const width = Math.max(200, Math.floor(this.container.clientWidth));
    const height = Math.round(width * 0.52);
    if (!force && width === this.width && height === this.height) return;
    this.width = width;
    this.height = height;
    this.container.style.height = `${height}px`;
    this.projection = geoNaturalEarth1().fitExtent([[4, 4], [width - 4, height - 4]], { type: 'Sphere' });
    const path = geoPath(this.projection);
    this.svgRoot.setAttribute('viewBox', `0 0 ${width} ${height}`);
    this.svgRoot.setAttribute('width', String(width));
    this.svgRoot.setAttribute('height', String(height));
    const sphere = svg('path', { class: 'sphere', d: path({ type: 'Sphere' }) ?? '' });
    this.paths.clear();
    const shapes = this.countries.map((country) => {
      const shape = svg('path', { class: 'country', d: path(country) ?? '' });
      const code = String(country.id ?? '');
      const list = this.paths.get(code) ?? [];
      list.push(shape);
      this.paths.set(code, list);
      shape.append(svg('title'));
      shape.dataset['name'] = country.properties?.name ?? code;
      return shape;
    });
    this.svgRoot.replaceChildren(sphere, ...shapes);
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = width * ratio;
    this.canvas.height = height * ratio;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.context.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.applyShading();
  }

  private applyShading(): void {
    let max = 0;
    for (const { count } of this.volumes.values()) max = Math.max(max, count);
    for (const [code, shapes] of this.paths) {
      const volume = this.volumes.get(code);
      const t = volume && max > 0 ? Math.log1p(volume.count) / Math.log1p(max) : 0;
      for (const shape of shapes) {
        shape.setAttribute('fill', shadeOf(t));
        const name = volume?.name ?? shape.dataset['name'] ?? code;
        shape.firstElementChild!.textContent = volume ? `${name}: ${formatCount(volume.count)} attacks this month` : name;
      }
    }
  }

  private draw(now: number): void {
    this.frame = 0;
    // 30 frames a second are smooth enough for arcs and halve the drawing.
    if (now - this.lastFrame < FRAME_MS) {
      this.frame = requestAnimationFrame((t) => this.draw(t));
      return;
    }
    this.lastFrame = now;
    this.release(now);
    // Once per frame, not per arc: an attribute write invalidates style.
    this.container.dataset['arcs'] = String(this.arcsDrawn);
    const context = this.context;
    context.clearRect(0, 0, this.width, this.height);
    this.arcs = this.arcs.filter((arc) => now - arc.born < LIFE_MS);
    context.lineWidth = 1.4;
    context.lineCap = 'round';
    for (const arc of this.arcs) {
      const age = now - arc.born;
      const a = this.projection(arc.from);
      const b = this.projection(arc.to);
      if (!a || !b) continue;
      const grown = Math.min(1, age / GROW_MS);
      const fade = age < GROW_MS ? 1 : 1 - (age - GROW_MS) / (LIFE_MS - GROW_MS);
      // A quadratic curve bowed to one side, its height growing with the distance.
      const mx = (a[0] + b[0]) / 2;
      const my = (a[1] + b[1]) / 2;
      const dx = b[0] - a[0];
      const dy = b[1] - a[1];
      const lift = 0.25;
      const cx = mx - dy * lift;
      const cy = my + dx * lift - Math.hypot(dx, dy) * 0.1;
      context.globalAlpha = Math.max(0, fade);
      context.strokeStyle = arc.colour;
      context.beginPath();
      context.moveTo(a[0], a[1]);
      const steps = Math.max(2, Math.ceil(SEGMENTS * grown));
      let x = a[0];
      let y = a[1];
      for (let i = 1; i <= steps; i++) {
        const t = (i / steps) * grown;
        const u = 1 - t;
        x = u * u * a[0] + 2 * u * t * cx + t * t * b[0];
        y = u * u * a[1] + 2 * u * t * cy + t * t * b[1];
        context.lineTo(x, y);
      }
      context.stroke();
      context.fillStyle = arc.colour;
      context.beginPath();
      context.arc(x, y, grown < 1 ? 2 : 2 + 4 * (1 - fade), 0, Math.PI * 2);
      context.fill();
    }
    context.globalAlpha = 1;
    if (this.arcs.length > 0 || this.waiting.length > 0) this.frame = requestAnimationFrame((t) => this.draw(t));
  }
}

/** Dark slate for no attacks up to red for the most. */
function shadeOf(t: number): string {
  if (t <= 0) return '#243447';
  const from = [0x2e, 0x4a, 0x62];
  const to = [0xe6, 0x39, 0x46];
  const mix = from.map((f, i) => Math.round(f + (to[i]! - f) * t));
  return `rgb(${mix[0]}, ${mix[1]}, ${mix[2]})`;
}

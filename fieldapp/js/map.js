// The worker's cells drawn as SVG vectors (nothing fetched from outside the server), the GPS fix with
// its accuracy circle, and a tap that places the point by hand. A local equirectangular projection in
// metres is plenty at the scale of a township.
import { api } from './api.js';
import { t } from './i18n.js';
import { appSettings, me } from './session.js';

const NS = 'http://www.w3.org/2000/svg';
const M_PER_DEG_LAT = 110574;
const M_PER_DEG_LON = 111320;
const CELLS_KEY = 'gw.cells';
// A fix this far outside the cells still widens the view; farther, the view stays on the cells.
const NEAR_M = 3000;
const MAX_TILES = 16;

/** The signed-in worker's cells (GeoJSON features), from the server or, offline, the last copy. */
export async function loadCells() {
  const mine = new Set(me()?.cells || []);
  try {
    const { data } = await api('/cells?mine=true&limit=5000');
    let features = data?.features || [];
    if (mine.size) features = features.filter((f) => mine.has(f.properties?.code));
    localStorage.setItem(CELLS_KEY, JSON.stringify({ actor: me()?.actor, features }));
    return features;
  } catch {
    return cachedCells();
  }
}

export function cachedCells() {
  try {
    const saved = JSON.parse(localStorage.getItem(CELLS_KEY) || 'null');
    return saved && saved.actor === me()?.actor ? saved.features : [];
  } catch {
    return [];
  }
}

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return [geometry.coordinates];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

function inRing(lon, lat, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The cell (feature) a point falls in, or null. */
export function cellAt(features, lon, lat) {
  for (const f of features) {
    for (const polygon of rings(f.geometry)) {
      if (polygon.length && inRing(lon, lat, polygon[0]) && !polygon.slice(1).some((h) => inRing(lon, lat, h))) {
        return f;
      }
    }
  }
  return null;
}

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

export class CellMap {
  constructor(container, onPlace) {
    this.features = [];
    this.fix = null;
    this.placed = null;
    this.onPlace = onPlace;
    this.svg = el('svg', { class: 'map-svg', role: 'img', preserveAspectRatio: 'xMidYMid meet' });
    container.appendChild(this.svg);
    this.svg.addEventListener('click', (ev) => this.tap(ev));
  }

  setCells(features) {
    this.features = features || [];
    this.draw();
  }

  setFix(fix) {
    this.fix = fix;
    this.draw();
  }

  setPlaced(point) {
    this.placed = point;
    this.draw();
  }

  extent() {
    let box = null;
    const add = (lon, lat) => {
      box = box
        ? [Math.min(box[0], lon), Math.min(box[1], lat), Math.max(box[2], lon), Math.max(box[3], lat)]
        : [lon, lat, lon, lat];
    };
    for (const f of this.features) {
      for (const polygon of rings(f.geometry)) for (const [lon, lat] of polygon[0] || []) add(lon, lat);
    }
    const spot = this.placed || this.fix;
    if (spot) {
      const near = !box || (
        spot.lon > box[0] - NEAR_M / M_PER_DEG_LON && spot.lon < box[2] + NEAR_M / M_PER_DEG_LON
        && spot.lat > box[1] - NEAR_M / M_PER_DEG_LAT && spot.lat < box[3] + NEAR_M / M_PER_DEG_LAT
      );
      if (near) {
        const r = Math.min(Math.max(this.fix?.acc || 0, 150), 2000);
        add(spot.lon - r / M_PER_DEG_LON, spot.lat - r / M_PER_DEG_LAT);
        add(spot.lon + r / M_PER_DEG_LON, spot.lat + r / M_PER_DEG_LAT);
      }
    }
    return box;
  }

  draw() {
    const svg = this.svg;
    svg.replaceChildren();
    const box = this.extent();
    if (!box) {
      this.project = null;
      this.unproject = null;
      svg.setAttribute('viewBox', '0 0 100 60');
      const note = el('text', { x: 50, y: 32, 'text-anchor': 'middle', 'font-size': 5, class: 'map-label' }, svg);
      note.textContent = t('map_no_cells');
      return;
    }
    const lon0 = (box[0] + box[2]) / 2;
    const lat0 = (box[1] + box[3]) / 2;
    const kx = M_PER_DEG_LON * Math.cos((lat0 * Math.PI) / 180);
    this.project = (lon, lat) => [(lon - lon0) * kx, -(lat - lat0) * M_PER_DEG_LAT];
    this.unproject = (x, y) => ({ lon: lon0 + x / kx, lat: lat0 - y / M_PER_DEG_LAT });
    const [x0, y1] = this.project(box[0], box[1]);
    const [x1, y0] = this.project(box[2], box[3]);
    const pad = Math.max(x1 - x0, y1 - y0) * 0.05 + 20;
    const w = x1 - x0 + 2 * pad;
    const h = y1 - y0 + 2 * pad;
    svg.setAttribute('viewBox', `${x0 - pad} ${y0 - pad} ${w} ${h}`);
    const unit = Math.max(w, h) / 300; // about one screen pixel on a phone
    el('rect', { x: x0 - pad, y: y0 - pad, width: w, height: h, class: 'map-bg' }, svg);
    this.tiles(box);
    const spot = this.placed || this.fix;
    const here = spot ? cellAt(this.features, spot.lon, spot.lat) : null;
    for (const f of this.features) {
      const d = rings(f.geometry)
        .flatMap((polygon) => polygon.map((ring) => `M${ring.map(([lo, la]) => this.project(lo, la).map((v) => v.toFixed(1)).join(',')).join('L')}Z`))
        .join('');
      el('path', { d, class: f === here ? 'map-cell map-cell-here' : 'map-cell', 'stroke-width': unit * 1.5 }, svg);
    }
    for (const f of this.features) {
      const ring = rings(f.geometry)[0]?.[0];
      if (!ring?.length) continue;
      const cx = ring.reduce((s, p) => s + p[0], 0) / ring.length;
      const cy = ring.reduce((s, p) => s + p[1], 0) / ring.length;
      const [x, y] = this.project(cx, cy);
      const label = el('text', { x, y, class: 'map-label', 'font-size': unit * 11, 'text-anchor': 'middle' }, svg);
      label.textContent = f.properties?.name || f.properties?.code || '';
    }
    if (this.fix) {
      const [x, y] = this.project(this.fix.lon, this.fix.lat);
      el('circle', { cx: x, cy: y, r: Math.max(this.fix.acc || 0, unit * 3), class: 'map-acc', 'stroke-width': unit }, svg);
      el('circle', { cx: x, cy: y, r: unit * 5, class: 'map-fix', 'stroke-width': unit * 2 }, svg);
    }
    if (this.placed) {
      const [x, y] = this.project(this.placed.lon, this.placed.lat);
      const s = unit * 9;
      el('path', { d: `M${x},${y}l${-s / 2},${-s}h${s}z`, class: 'map-placed', 'stroke-width': unit }, svg);
    }
  }

  /** The county's own raster tiles under the cells, only when GRIDWATCH_TILE_URL is set. At a
   * township's scale a Web Mercator tile is placed well enough by its corners in this projection. */
  tiles(box) {
    const url = appSettings().tile_url;
    if (!url) return;
    // About two tiles across the longer side of the view.
    const span = Math.max(box[2] - box[0], box[3] - box[1], 1e-4);
    const z = Math.max(1, Math.min(18, Math.floor(Math.log2((2 * 360) / span))));
    const n = 2 ** z;
    const tx = (lon) => Math.floor(((lon + 180) / 360) * n);
    const ty = (lat) => {
      const r = (lat * Math.PI) / 180;
      return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
    };
    const lonOf = (x) => (x / n) * 360 - 180;
    const latOf = (y) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / n))) * 180) / Math.PI;
    const [xa, xb, ya, yb] = [tx(box[0]), tx(box[2]), ty(box[3]), ty(box[1])];
    if ((xb - xa + 1) * (yb - ya + 1) > MAX_TILES) return;
    for (let x = xa; x <= xb; x += 1) {
      for (let y = ya; y <= yb; y += 1) {
        const [left, top] = this.project(lonOf(x), latOf(y));
        const [right, bottom] = this.project(lonOf(x + 1), latOf(y + 1));
        el('image', {
          href: url.replace('{z}', z).replace('{x}', x).replace('{y}', y),
          x: left, y: top, width: right - left, height: bottom - top, preserveAspectRatio: 'none',
        }, this.svg);
      }
    }
  }

  tap(ev) {
    if (!this.unproject) return;
    const ctm = this.svg.getScreenCTM();
    if (!ctm) return;
    const pt = this.svg.createSVGPoint();
    pt.x = ev.clientX;
    pt.y = ev.clientY;
    const p = pt.matrixTransform(ctm.inverse());
    const { lon, lat } = this.unproject(p.x, p.y);
    this.onPlace({ lon: Number(lon.toFixed(7)), lat: Number(lat.toFixed(7)) });
  }
}

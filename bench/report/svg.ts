/**
 * A small SVG line chart: axes with ticks and labels, units, a legend, a marker shape per series
 * (so series stay apart without colour), whiskers for the min–max spread of the runs, and an
 * optional dashed reference line (e.g. ideal scaling).
 *
 * The chart is a card with its own background, and its colours switch with
 * `prefers-color-scheme`: on GitHub it is readable in the light and the dark theme, and when the
 * viewer's system and GitHub's theme disagree it is still a readable card. Output depends only on
 * the input (no dates, no randomness), so charts diff cleanly and tests can compare them.
 */

/** One point: the median, and optionally the min and max over the runs. */
export interface Point {
  /** A number on a linear or log axis; a category name on a category axis. */
  x: number | string;
  y: number;
  low?: number;
  high?: number;
}

export interface Series {
  label: string;
  points: Point[];
  /** Drawn dashed, without markers: a reference such as the ideal, not a measurement. */
  reference?: boolean;
  /**
   * Series with the same color key share a colour; with the same shape key, a marker and a dash
   * pattern. Two dimensions of the data (say mode and acceptors) then read apart at a glance.
   * Default: each series its own colour and shape.
   */
  colorKey?: string;
  shapeKey?: string;
}

export interface XAxis {
  label: string;
  /** `log` spaces 1, 16, 64, 256 evenly by their logarithm; `category` spaces names evenly. */
  scale: 'linear' | 'log' | 'category';
  /** Category names in order (for `category`); else ticks are the x values of the data. */
  categories?: string[];
  format?: (x: number) => string;
}

export interface YAxis {
  label: string;
  scale: 'linear' | 'log';
  format?: (y: number) => string;
  /** Linear axes start at 0 unless this is false (ratios near 1 read better without it). */
  fromZero?: boolean;
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  x: XAxis;
  y: YAxis;
  series: Series[];
  /** Outer size in px (default 760 × 440 plus the legend). */
  width?: number;
  height?: number;
}

/** Sizes of the layout, in px. */
const LAYOUT = {
  width: 760,
  height: 440,
  padding: 20,
  titleSize: 16,
  textSize: 12,
  tickLength: 5,
  left: 84,
  right: 28,
  top: 70,
  bottom: 60,
  legendRow: 20,
  legendGap: 28,
  markerSize: 4.5,
  /** Rough width of a character at textSize, to lay out the legend without measuring text. */
  charWidth: 6.8,
  /** Fewest and most intervals between ticks on a linear y axis. */
  minIntervals: 4,
  maxIntervals: 6,
} as const;

/** Colour-blind-safe palette (Okabe–Ito order), a darker and a lighter variant per theme. */
const PALETTE = {
  light: ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#b07800', '#3b8ec2', '#6a3d9a', '#555555'],
  dark: ['#56b4e9', '#ff8c4a', '#2fd3a0', '#eda3cd', '#f0c040', '#9ecbf0', '#c1a2f0', '#bbbbbb'],
} as const;

const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'cross', 'plus', 'star'] as const;
type Marker = (typeof MARKERS)[number];
/** Dash patterns that go with the markers, so shapes differ in the lines too. */
const DASHES = ['', '7 4', '2 3', '10 3 2 3'] as const;

/** Colour and shape index of each series, from its keys (first seen, first served). */
function styles(series: Series[]): { color: number; shape: number }[] {
  const colors = new Map<string, number>();
  const shapes = new Map<string, number>();
  return series.map((s, i) => {
    const ck = s.colorKey ?? `#${i}`;
    const sk = s.shapeKey ?? (s.colorKey === undefined ? `#${i}` : '');
    if (!colors.has(ck)) colors.set(ck, colors.size);
    if (!shapes.has(sk)) shapes.set(sk, shapes.size);
    return { color: colors.get(ck)! % PALETTE.light.length, shape: shapes.get(sk)! };
  });
}

/** The marker of a shape index; past the last, the order shifts so colour and marker never repeat together. */
function markerOf(shape: number): Marker {
  return MARKERS[(shape + Math.floor(shape / MARKERS.length)) % MARKERS.length]!;
}

function dashAttr(shape: number, keyed: boolean): string {
  const d = keyed ? DASHES[shape % DASHES.length]! : '';
  return d ? ` stroke-dasharray="${d}"` : '';
}

/** Escapes text for SVG content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A coordinate with one decimal: enough for a screen, stable in diffs. */
function c(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** Round steps 1, 2, 2.5, 5 × 10^k giving at most maxIntervals intervals from lo to hi. */
export function niceTicks(lo: number, hi: number): number[] {
  if (!(hi > lo)) hi = lo + (lo === 0 ? 1 : Math.abs(lo));
  const span = hi - lo;
  let step = 10 ** Math.floor(Math.log10(span / LAYOUT.minIntervals));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const s = step * m;
    if (Math.ceil(hi / s) - Math.floor(lo / s) <= LAYOUT.maxIntervals) {
      step = s;
      break;
    }
  }
  const first = Math.floor(lo / step) * step;
  const last = Math.ceil(hi / step) * step;
  const out: number[] = [];
  for (let v = first; v <= last + step / 2; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Ticks of a log axis: powers of 10, with 2 and 5 between them when the range is short. */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const mults = b - a <= 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = a; e <= b; e++) for (const m of mults) out.push(Number((m * 10 ** e).toPrecision(12)));
  // Keep one tick below and above the data so every point sits inside the axis.
  const below = out.filter((t) => t <= lo).pop() ?? out[0]!;
  const above = out.find((t) => t >= hi) ?? out[out.length - 1]!;
  return out.filter((t) => t >= below && t <= above);
}

function defaultFormat(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e3) return `${trim(v / 1e3)}k`;
  return trim(v);
}

function trim(v: number): string {
  return String(Number(v.toPrecision(3)));
}

function markerPath(kind: Marker, x: number, y: number, r: number): string {
  switch (kind) {
    case 'circle':
      return `<circle cx="${c(x)}" cy="${c(y)}" r="${c(r)}"/>`;
    case 'square':
      return `<rect x="${c(x - r * 0.9)}" y="${c(y - r * 0.9)}" width="${c(r * 1.8)}" height="${c(r * 1.8)}"/>`;
    case 'triangle':
      return `<path d="M${c(x)} ${c(y - r * 1.2)}L${c(x + r * 1.1)} ${c(y + r * 0.8)}L${c(x - r * 1.1)} ${c(y + r * 0.8)}Z"/>`;
    case 'triangle-down':
      return `<path d="M${c(x)} ${c(y + r * 1.2)}L${c(x + r * 1.1)} ${c(y - r * 0.8)}L${c(x - r * 1.1)} ${c(y - r * 0.8)}Z"/>`;
    case 'diamond':
      return `<path d="M${c(x)} ${c(y - r * 1.3)}L${c(x + r * 1.1)} ${c(y)}L${c(x)} ${c(y + r * 1.3)}L${c(x - r * 1.1)} ${c(y)}Z"/>`;
    case 'cross':
      return `<path class="open" d="M${c(x - r)} ${c(y - r)}L${c(x + r)} ${c(y + r)}M${c(x - r)} ${c(y + r)}L${c(x + r)} ${c(y - r)}"/>`;
    case 'plus':
      return `<path class="open" d="M${c(x - r * 1.2)} ${c(y)}L${c(x + r * 1.2)} ${c(y)}M${c(x)} ${c(y - r * 1.2)}L${c(x)} ${c(y + r * 1.2)}"/>`;
    case 'star':
      return `<path d="M${c(x)} ${c(y - r * 1.3)}L${c(x + r * 0.4)} ${c(y - r * 0.4)}L${c(x + r * 1.3)} ${c(y - r * 0.3)}L${c(x + r * 0.6)} ${c(y + r * 0.3)}L${c(x + r * 0.8)} ${c(y + r * 1.2)}L${c(x)} ${c(y + r * 0.7)}L${c(x - r * 0.8)} ${c(y + r * 1.2)}L${c(x - r * 0.6)} ${c(y + r * 0.3)}L${c(x - r * 1.3)} ${c(y - r * 0.3)}L${c(x - r * 0.4)} ${c(y - r * 0.4)}Z"/>`;
  }
}

function style(): string {
  const rules: string[] = [];
  const theme = (p: readonly string[], bg: string, fg: string, muted: string, grid: string, axis: string) =>
    [
      `.bg{fill:${bg}}`,
      `.fg{fill:${fg}}`,
      `.muted{fill:${muted}}`,
      `.grid{stroke:${grid}}`,
      `.axis,.reference{stroke:${axis}}`,
      ...p.map((col, i) => `.s${i}{stroke:${col};fill:${col}}`),
    ].join('');
  rules.push(theme(PALETTE.light, '#ffffff', '#1f2328', '#59636e', '#e1e6eb', '#818b98'));
  rules.push(`@media (prefers-color-scheme: dark){${theme(PALETTE.dark, '#0d1117', '#f0f6fc', '#9198a1', '#2a313c', '#656c76')}}`);
  rules.push('.line{fill:none;stroke-width:2}.ref{fill:none;stroke-width:1.5;stroke-dasharray:6 4}.whisker{stroke-width:1.2;fill:none}');
  rules.push('.open{fill:none;stroke-width:2}.grid,.axis{fill:none;stroke-width:1}text{font-size:12px}.title{font-size:16px;font-weight:600}');
  return rules.join('');
}

interface Scale {
  map(v: number | string): number;
  ticks: { v: number | string; label: string }[];
}

function xScale(spec: ChartSpec, x0: number, x1: number): Scale {
  const ax = spec.x;
  const fmt = ax.format ?? defaultFormat;
  if (ax.scale === 'category') {
    const cats = ax.categories ?? [...new Set(spec.series.flatMap((s) => s.points.map((p) => String(p.x))))];
    const step = (x1 - x0) / cats.length;
    return {
      map: (v) => x0 + step * (cats.indexOf(String(v)) + 0.5),
      ticks: cats.map((cat) => ({ v: cat, label: cat })),
    };
  }
  const xs = [...new Set(spec.series.filter((s) => !s.reference).flatMap((s) => s.points.map((p) => Number(p.x))))].sort((a, b) => a - b);
  if (xs.length === 0) xs.push(...[...new Set(spec.series.flatMap((s) => s.points.map((p) => Number(p.x))))].sort((a, b) => a - b));
  const f = ax.scale === 'log' ? (v: number) => Math.log2(v) : (v: number) => v;
  let lo = f(xs[0]!);
  let hi = f(xs[xs.length - 1]!);
  if (hi === lo) {
    lo -= 1;
    hi += 1;
  }
  // A margin of a twentieth of the range keeps the first and last markers off the y axis.
  const pad = (hi - lo) / 20;
  lo -= pad;
  hi += pad;
  return {
    map: (v) => x0 + ((f(Number(v)) - lo) / (hi - lo)) * (x1 - x0),
    ticks: xs.map((v) => ({ v, label: fmt(v) })),
  };
}

function yScale(spec: ChartSpec, y0: number, y1: number): Scale {
  const ys: number[] = [];
  for (const s of spec.series)
    for (const p of s.points) {
      for (const v of [p.y, p.low, p.high]) if (v !== undefined && Number.isFinite(v) && (spec.y.scale !== 'log' || v > 0)) ys.push(v);
    }
  if (ys.length === 0) ys.push(spec.y.scale === 'log' ? 1 : 0, 1);
  const fmt = spec.y.format ?? defaultFormat;
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  if (spec.y.scale === 'log') {
    const ticks = logTicks(lo, hi);
    lo = ticks[0]!;
    hi = ticks[ticks.length - 1]!;
    if (hi === lo) hi = lo * 10;
    const [l, h] = [Math.log10(lo), Math.log10(hi)];
    return { map: (v) => y0 - ((Math.log10(Number(v)) - l) / (h - l)) * (y0 - y1), ticks: ticks.map((v) => ({ v, label: fmt(v) })) };
  }
  if (spec.y.fromZero !== false) lo = Math.min(0, lo);
  const ticks = niceTicks(lo, hi);
  lo = ticks[0]!;
  hi = ticks[ticks.length - 1]!;
  return { map: (v) => y0 - ((Number(v) - lo) / (hi - lo)) * (y0 - y1), ticks: ticks.map((v) => ({ v, label: fmt(v) })) };
}

/** Legend rows: items flow left to right and wrap at the plot's width. */
function legendRows(series: Series[], width: number): number[][] {
  const rows: number[][] = [[]];
  let used = 0;
  series.forEach((s, i) => {
    const w = 34 + s.label.length * LAYOUT.charWidth + LAYOUT.legendGap;
    if (used + w > width && rows[rows.length - 1]!.length > 0) {
      rows.push([]);
      used = 0;
    }
    rows[rows.length - 1]!.push(i);
    used += w;
  });
  return rows;
}

/**
 * Renders the chart as a standalone SVG document.
 * @throws RangeError when a log axis gets a value ≤ 0 or a category point names no category.
 */
export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? LAYOUT.width;
  const plotW = width - LAYOUT.left - LAYOUT.right;
  const rows = legendRows(spec.series, plotW);
  const legendH = rows.length * LAYOUT.legendRow;
  const height = (spec.height ?? LAYOUT.height) + legendH;
  const px0 = LAYOUT.left;
  const px1 = width - LAYOUT.right;
  const py1 = LAYOUT.top + (spec.subtitle ? 0 : -16);
  const py0 = height - LAYOUT.bottom - legendH;

  for (const s of spec.series)
    for (const p of s.points) {
      if (spec.y.scale === 'log' && !(p.y > 0)) throw new RangeError(`chart '${spec.title}': series '${s.label}' has y ${p.y} on a log axis`);
      if (spec.x.scale === 'log' && !(Number(p.x) > 0)) throw new RangeError(`chart '${spec.title}': series '${s.label}' has x ${p.x} on a log axis`);
      if (spec.x.scale === 'category' && spec.x.categories && !spec.x.categories.includes(String(p.x))) {
        throw new RangeError(`chart '${spec.title}': series '${s.label}' has x '${p.x}', not one of ${spec.x.categories.join(', ')}`);
      }
    }

  const X = xScale(spec, px0, px1);
  const Y = yScale(spec, py0, py1);
  const out: string[] = [];
  const titleId = 'title';
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${titleId} desc" font-family="-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif">`,
  );
  out.push(`<title id="${titleId}">${escapeXml(spec.title)}</title>`);
  out.push(`<desc id="desc">${escapeXml(describe(spec))}</desc>`);
  out.push(`<style>${style()}</style>`);
  out.push(`<rect class="bg" x="0" y="0" width="${width}" height="${height}" rx="8"/>`);
  out.push(`<text class="fg title" x="${LAYOUT.padding}" y="${LAYOUT.padding + 12}">${escapeXml(spec.title)}</text>`);
  if (spec.subtitle) out.push(`<text class="muted" x="${LAYOUT.padding}" y="${LAYOUT.padding + 32}">${escapeXml(spec.subtitle)}</text>`);

  // Grid and y ticks.
  for (const t of Y.ticks) {
    const y = Y.map(t.v);
    out.push(`<line class="grid" x1="${c(px0)}" y1="${c(y)}" x2="${c(px1)}" y2="${c(y)}"/>`);
    out.push(`<text class="muted" x="${c(px0 - LAYOUT.tickLength - 3)}" y="${c(y + 4)}" text-anchor="end">${escapeXml(t.label)}</text>`);
  }
  // Axes and x ticks.
  out.push(`<line class="axis" x1="${c(px0)}" y1="${c(py0)}" x2="${c(px1)}" y2="${c(py0)}"/>`);
  out.push(`<line class="axis" x1="${c(px0)}" y1="${c(py0)}" x2="${c(px0)}" y2="${c(py1)}"/>`);
  for (const t of X.ticks) {
    const x = X.map(t.v);
    out.push(`<line class="axis" x1="${c(x)}" y1="${c(py0)}" x2="${c(x)}" y2="${c(py0 + LAYOUT.tickLength)}"/>`);
    out.push(`<text class="muted" x="${c(x)}" y="${c(py0 + LAYOUT.tickLength + 14)}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  out.push(`<text class="fg" x="${c((px0 + px1) / 2)}" y="${c(py0 + 44)}" text-anchor="middle">${escapeXml(spec.x.label)}</text>`);
  const ly = (py0 + py1) / 2;
  out.push(
    `<text class="fg" x="${c(LAYOUT.padding + 4)}" y="${c(ly)}" text-anchor="middle" transform="rotate(-90 ${c(LAYOUT.padding + 4)} ${c(ly)})">${escapeXml(spec.y.label)}</text>`,
  );

  // Series: whiskers under lines under markers.
  const looks = styles(spec.series);
  const keyed = spec.series.some((s) => s.shapeKey !== undefined);
  spec.series.forEach((s, i) => {
    const cls = `s${looks[i]!.color}`;
    const pts = s.points.map((p) => ({ x: X.map(p.x), y: Y.map(p.y), p }));
    if (s.reference) {
      out.push(`<polyline class="reference ref" points="${pts.map((q) => `${c(q.x)},${c(q.y)}`).join(' ')}"/>`);
      return;
    }
    for (const q of pts) {
      if (q.p.low === undefined || q.p.high === undefined || q.p.high <= q.p.low) continue;
      const lo = Y.map(q.p.low);
      const hi = Y.map(q.p.high);
      if (Math.abs(lo - hi) < 2) continue;
      out.push(`<path class="${cls} whisker" d="M${c(q.x)} ${c(lo)}V${c(hi)}M${c(q.x - 4)} ${c(lo)}H${c(q.x + 4)}M${c(q.x - 4)} ${c(hi)}H${c(q.x + 4)}"/>`);
    }
    if (pts.length > 1)
      out.push(`<polyline class="${cls} line"${dashAttr(looks[i]!.shape, keyed)} points="${pts.map((q) => `${c(q.x)},${c(q.y)}`).join(' ')}"/>`);
    const marker = markerOf(looks[i]!.shape);
    out.push(`<g class="${cls}">${pts.map((q) => markerPath(marker, q.x, q.y, LAYOUT.markerSize)).join('')}</g>`);
  });

  // Legend under the x axis label.
  rows.forEach((row, r) => {
    let x = px0;
    const y = py0 + 66 + r * LAYOUT.legendRow;
    for (const i of row) {
      const s = spec.series[i]!;
      const cls = `s${looks[i]!.color}`;
      out.push(
        `<line class="${s.reference ? 'reference ref' : `${cls} line`}"${s.reference ? '' : dashAttr(looks[i]!.shape, keyed)} x1="${c(x)}" y1="${c(y - 4)}" x2="${c(x + 26)}" y2="${c(y - 4)}"/>`,
      );
      if (!s.reference) out.push(`<g class="${cls}">${markerPath(markerOf(looks[i]!.shape), x + 13, y - 4, LAYOUT.markerSize)}</g>`);
      out.push(`<text class="fg" x="${c(x + 34)}" y="${c(y)}">${escapeXml(s.label)}</text>`);
      x += 34 + s.label.length * LAYOUT.charWidth + LAYOUT.legendGap;
    }
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** A text description of the data, for screen readers and for anyone reading the SVG source. */
function describe(spec: ChartSpec): string {
  const fy = spec.y.format ?? defaultFormat;
  const fx = (v: number | string) => (typeof v === 'number' ? (spec.x.format ?? defaultFormat)(v) : v);
  return spec.series.map((s) => `${s.label}: ${s.points.map((p) => `${fx(p.x)} → ${fy(p.y)}`).join(', ')}`).join('; ');
}

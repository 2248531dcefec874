/**
 * Line charts on a canvas: the last minute, one point per second, a y axis that fits the data.
 * Drawn whole on every update (a few hundred segments: cheaper than any diffing).
 */

export interface Series {
  /** CSS custom property holding the colour, e.g. `--writes`. */
  color: string;
  values: (number | null)[];
}

const PAD = { left: 44, right: 8, top: 8, bottom: 20 };

export function drawChart(canvas: HTMLCanvasElement, series: Series[], unit: string, spanSeconds: number): void {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight || 180;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  const g = canvas.getContext('2d');
  if (!g) return;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, height);
  const style = getComputedStyle(document.documentElement);
  const ink = style.getPropertyValue('--muted').trim() || '#666';
  const line = style.getPropertyValue('--line').trim() || '#ddd';

  let max = 0;
  for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
  const top = niceCeiling(max);
  const w = width - PAD.left - PAD.right;
  const h = height - PAD.top - PAD.bottom;
  const x = (i: number, n: number) => PAD.left + (n <= 1 ? w : (i / (n - 1)) * w);
  const y = (v: number) => PAD.top + h - (v / top) * h;

  g.font = '11px system-ui, sans-serif';
  g.fillStyle = ink;
  g.strokeStyle = line;
  g.lineWidth = 1;
  for (let k = 0; k <= 4; k++) {
    const v = (top / 4) * k;
    const yy = Math.round(y(v)) + 0.5;
    g.beginPath();
    g.moveTo(PAD.left, yy);
    g.lineTo(width - PAD.right, yy);
    g.stroke();
    g.textAlign = 'right';
    g.fillText(label(v), PAD.left - 6, yy + 4);
  }
  g.textAlign = 'left';
  g.fillText(`−${spanSeconds} s`, PAD.left, height - 4);
  g.textAlign = 'right';
  g.fillText(`now${unit ? ` (${unit})` : ''}`, width - PAD.right, height - 4);

  for (const s of series) {
    g.strokeStyle = style.getPropertyValue(s.color).trim() || '#333';
    g.lineWidth = 1.8;
    g.beginPath();
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      if (!pen) g.moveTo(x(i, s.values.length), y(v));
      else g.lineTo(x(i, s.values.length), y(v));
      pen = true;
    });
    g.stroke();
  }
}

/** 1, 2 or 5 times a power of ten, at least `v` (and at least 1). */
function niceCeiling(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function label(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(v % 1000 === 0 ? 0 : 1)}k` : v >= 10 || v === 0 ? String(Math.round(v)) : v.toFixed(1);
}

/**
 * Number formatting shared by the report, the terminal summary and the chart axes: three
 * significant digits (more would claim a precision a shared machine does not give), k and M for
 * large values, and sizes in B / KiB / MiB.
 */

/** `1234567` → `1.23 M`, `75258` → `75.3 k`, `33.479` → `33.5`, `0.0388` → `0.0388`. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '–' : x > 0 ? '∞' : '-∞';
  const a = Math.abs(x);
  if (a >= 1e9) return `${sig(x / 1e9)} G`;
  if (a >= 1e6) return `${sig(x / 1e6)} M`;
  if (a >= 1e4) return `${sig(x / 1e3)} k`;
  return sig(x);
}

/** Three significant digits, no exponent, no trailing zeros after the point. */
export function sig(x: number, digits = 3): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
  const s = x.toFixed(Math.min(decimals, 6));
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** A ratio: `1.75×`. */
export function formatRatio(x: number): string {
  return Number.isFinite(x) ? `${sig(x)}×` : '–';
}

/** A relative change: `+12.5 %`, `-3.1 %`. */
export function formatChange(fraction: number): string {
  if (!Number.isFinite(fraction)) return '–';
  const pct = fraction * 100;
  return `${pct >= 0 ? '+' : '−'}${sig(Math.abs(pct), 3)} %`;
}

/** Bytes with binary units: `16 B`, `1 KiB`, `64 KiB`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${sig(bytes / (1024 * 1024))} MiB`;
  if (bytes >= 1024) return `${sig(bytes / 1024)} KiB`;
  return `${sig(bytes)} B`;
}

/** Seconds as `45 s` or `3 min 05 s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** A clock for progress lines: `1:05`. */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

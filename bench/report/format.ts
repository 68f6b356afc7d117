import type { Figure, Spread } from '../lib/stats';

/** A number with thin thousands separators and `digits` decimals; `n/a` for NaN/undefined. */
export function num(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  const fixed = value.toFixed(digits);
  const [int, frac] = fixed.split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** `median [min–max]` of a figure. */
export function fig(f: Figure | undefined, digits = 0): string {
  if (f === undefined) return 'n/a';
  if (f.runs.length <= 1) return num(f.median, digits);
  return `${num(f.median, digits)} [${num(f.min, digits)}–${num(f.max, digits)}]`;
}

/** `0.98× [0.95–1.01]` of a ratio spread. */
export function ratio(r: Spread | undefined, digits = 2): string {
  if (r === undefined || !Number.isFinite(r.median)) return '';
  if (r.min === r.max) return `${r.median.toFixed(digits)}×`;
  return `${r.median.toFixed(digits)}× [${r.min.toFixed(digits)}–${r.max.toFixed(digits)}]`;
}

/** A figure with its ratio, e.g. `12 345 [12 001–12 600] (0.98×)`. */
export function figRatio(f: Figure | undefined, digits = 0): string {
  if (f === undefined) return 'n/a';
  const r = f.ratio === undefined ? '' : ` (${ratio(f.ratio)})`;
  return `${fig(f, digits)}${r}`;
}

/** ✅ / ❌ / ❔ for a target check. */
export function verdict(met: boolean | undefined): string {
  return met === undefined ? '❔ not measured' : met ? '✅ met' : '❌ missed';
}

/** Number, size and date formatting shared by every view. */

export function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Four significant digits, thousands separators for large integers. */
export function fmtNum(value: unknown): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value !== 'number') {
    return String(value);
  }
  if (Number.isNaN(value)) {
    return 'NaN';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? '∞' : '−∞';
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e15) {
    return value.toLocaleString('en-US');
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
    return value.toExponential(3);
  }
  return Number(value.toPrecision(4)).toString();
}

export function fmtInt(value: unknown): string {
  return isNumber(value) ? Math.round(value).toLocaleString('en-US') : fmtNum(value);
}

export function fmtPct(value: unknown, digits = 1): string {
  return isNumber(value) ? `${(value * 100).toFixed(digits)} %` : '—';
}

export function fmtBytes(value: unknown): string {
  if (!isNumber(value)) {
    return '—';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${size} B` : `${size.toFixed(1)} ${units[unit]}`;
}

/** ``2026-11-23T09:15:40`` → ``2026-11-23 09:15`` (times are UTC in the registry). */
export function fmtDate(value: unknown): string {
  if (typeof value !== 'string' || !value) {
    return value === null || value === undefined ? '—' : String(value);
  }
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})/.exec(value);
  return match ? `${match[1]} ${match[2]}` : value;
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asNumbers(value: unknown): number[] {
  return asArray(value).map(v => (typeof v === 'number' ? v : Number.NaN));
}

export function asString(value: unknown, fallback = ''): string {
  return value === null || value === undefined ? fallback : String(value);
}

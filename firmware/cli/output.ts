// How commands print: diagnostics one per line on stderr, sizes and tables
// for people, JSON for programs. The same Diagnostic data as ubus and LuCI.

import { formatDiagnostic, type Diagnostic } from '../core/diag.ts';
import type { Platform } from '../platform/platform.ts';

export function printDiagnostics(platform: Platform, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) platform.err(formatDiagnostic(d));
}

export function printJson(platform: Platform, value: unknown): void {
  platform.out(JSON.stringify(value, null, 2));
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;

  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }

  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Left-aligned columns, two spaces apart. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));

  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

/** @module CSV (RFC 4180) for the reports: a header and rows, fields quoted when they need it, CRLF line ends. */

/**
 * A field as CSV: quoted when it holds a comma, a quote, CR or LF; null is empty. Text a spreadsheet would run
 * as a formula (starting with = + - @, tab or CR) gets a leading apostrophe: names and case IDs come from
 * people and devices, and an auditor opens these files in a spreadsheet.
 */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const raw = String(value);
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A whole CSV document: a UTF-8 byte-order mark (so spreadsheet programs read Chinese), header, rows. */
export function csvText(
  header: readonly string[],
  rows: readonly (readonly (string | number | boolean | null)[])[],
): string {
  return `\uFEFF${[header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

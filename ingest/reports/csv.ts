/** @module CSV (RFC 4180) for the reports: a header and rows, fields quoted when they need it, CRLF line ends. */

/** A field as CSV: quoted when it holds a comma, a quote, CR or LF; null is empty. */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A whole CSV document: a UTF-8 byte-order mark (so spreadsheet programs read Chinese), header, rows. */
export function csvText(
  header: readonly string[],
  rows: readonly (readonly (string | number | boolean | null)[])[],
): string {
  return `\uFEFF${[header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

/**
 * @module BagIt (RFC 8493), the one module that writes and reads bag declarations, bag-info and
 * manifests: quanlu's evidence packages are bags any BagIt tool can check for fixity [EVIDENCE §21.1].
 */

/** The bag declaration, exactly as written [RFC 8493 §2.1.1]. */
export const BAG_DECLARATION = 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n';

/** Tag file names at the top of a bag. */
export const BAG_FILES = {
  declaration: 'bagit.txt',
  info: 'bag-info.txt',
  manifest: 'manifest-sha256.txt',
  tagManifest: 'tagmanifest-sha256.txt',
} as const;

/** The payload directory [RFC 8493 §2.1.2]. */
export const PAYLOAD_DIR = 'data';

/** One manifest line: a SHA-256 and a path relative to the bag's base directory. */
export interface ManifestLine {
  sha256: string;
  path: string;
}

/** Encodes a path for a manifest: CR, LF and % are percent-encoded [RFC 8493 §2.1.3]. */
export function encodeManifestPath(path: string): string {
  return path.replace(/%/g, '%25').replace(/\n/g, '%0A').replace(/\r/g, '%0D');
}

function decodeManifestPath(path: string): string {
  return path.replace(/%0A/gi, '\n').replace(/%0D/gi, '\r').replace(/%25/g, '%');
}

/** A manifest's text: one `<sha256>  <path>` line per file, sorted by path so the bytes are reproducible. */
export function manifestText(lines: readonly ManifestLine[]): string {
  return [...lines]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((l) => `${l.sha256}  ${encodeManifestPath(l.path)}\n`)
    .join('');
}

/** A manifest as read, and the lines that could not be read. */
export interface ParsedManifest {
  entries: Map<string, string>;
  problems: string[];
}

/**
 * Parses a manifest. Refuses (as problems) lines that are not `<64 hex> <path>`, paths that are
 * absolute or climb out with `..`, and a path listed twice.
 */
export function parseManifest(text: string, name: string): ParsedManifest {
  const entries = new Map<string, string>();
  const problems: string[] = [];
  text.split(/\r\n|\n|\r/).forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^([0-9a-fA-F]{64})[ \t]+(.+)$/.exec(line);
    if (!m) {
      problems.push(`${name} line ${i + 1} is not "<sha256> <path>"`);
      return;
    }
    const path = decodeManifestPath(m[2]!);
    if (path.startsWith('/') || path.split('/').some((p) => p === '..' || p === '.' || p === '')) {
      problems.push(`${name} line ${i + 1} names a path outside the bag: ${JSON.stringify(path)}`);
      return;
    }
    if (entries.has(path)) problems.push(`${name} lists ${path} twice`);
    entries.set(path, m[1]!.toLowerCase());
  });
  return { entries, problems };
}

/** The Payload-Oxum value: total payload bytes and file count [RFC 8493 §2.2.2]. */
export function payloadOxum(bytes: number, files: number): string {
  return `${bytes}.${files}`;
}

/** bag-info.txt from label/value pairs, in the given order (values are single lines). */
export function bagInfoText(fields: ReadonlyArray<readonly [string, string]>): string {
  return fields.map(([k, v]) => `${k}: ${v.replace(/[\r\n]+/g, ' ')}\n`).join('');
}

/** Parses bag-info.txt (continuation lines start with whitespace) into label → values. */
export function parseBagInfo(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let last: { label: string; index: number } | null = null;
  for (const line of text.split(/\r\n|\n|\r/)) {
    if (line === '') continue;
    if (/^[ \t]/.test(line) && last) {
      const values = out.get(last.label)!;
      values[last.index] = `${values[last.index]} ${line.trim()}`;
      continue;
    }
    const at = line.indexOf(':');
    if (at < 1) continue;
    const label = line.slice(0, at).trim();
    const values = out.get(label) ?? [];
    values.push(line.slice(at + 1).trim());
    out.set(label, values);
    last = { label, index: values.length - 1 };
  }
  return out;
}

/** @module Reading YAML/JSON config files, and turning schema failures into GatewayErrors a person can act on. */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { GatewayError } from '../gateway/errors.ts';

/** Reads and parses a YAML or JSON file (JSON is YAML 1.2); GW_CONFIG_UNREADABLE names the file and line. */
export async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw unreadable(file, err);
  }
  return parseConfigText(text, file);
}

/** The synchronous twin of readConfigFile, for the small files shipped with the code (room profiles). */
export function readConfigFileSync(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw unreadable(file, err);
  }
  return parseConfigText(text, file);
}

/** Parses YAML or JSON text; duplicate keys are errors, since a repeated key hides a setting. */
export function parseConfigText(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const [error] = doc.errors;
  if (error) {
    // With prettyErrors the message names the line and column and quotes the offending line.
    throw new GatewayError('GW_CONFIG_UNREADABLE', `${file}: not valid YAML or JSON: ${error.message}`, {
      cause: error,
    });
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new GatewayError('GW_CONFIG_UNREADABLE', `${file}: not valid YAML or JSON: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/** Parses `input` with `schema`, or throws GW_CONFIG_INVALID listing one `path: message` line per problem. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalidConfig(what, formatIssues(result.error.issues), result.error);
}

/** A GW_CONFIG_INVALID error whose message lists the problems, one per line, and no stack trace. */
export function invalidConfig(what: string, problems: readonly string[], cause?: unknown): GatewayError {
  const list = problems.map((p) => `  - ${p}`).join('\n');
  return new GatewayError('GW_CONFIG_INVALID', `${what} is invalid:\n${list}`, { cause });
}

/** One readable `path: message` line per zod issue; unknown keys are named by their own path. */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${formatPath([...path, key])}: unknown key (a typo?)`);
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      lines.push(...formatUnion(issue.errors, path, issue.message));
    } else {
      lines.push(`${formatPath(path)}: ${issue.message}`);
    }
  }
  return lines;
}

/** A union none of whose branches matched: name the expected types, or report the closest branch. */
function formatUnion(branches: z.core.$ZodIssue[][], path: PropertyKey[], fallback: string): string[] {
  const typeOnly = branches.every(
    (b) => b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0,
  );
  if (typeOnly) {
    const expected = [...new Set(branches.map((b) => (b[0] as z.core.$ZodIssueInvalidType).expected))];
    return [`${formatPath(path)}: expected ${expected.join(' or ')}`];
  }
  const closest = branches
    .filter((b) => !(b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0))
    .sort((a, b) => a.length - b.length)[0];
  return closest ? formatIssues(closest, path) : [`${formatPath(path)}: ${fallback}`];
}

/** `cameras[1].source.url`; the top level is `(top level)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment))
      out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out || '(top level)';
}

function unreadable(file: string, err: unknown): GatewayError {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : messageOf(err);
  return new GatewayError('GW_CONFIG_UNREADABLE', `${file}: cannot read the file (${why})`, { cause: err });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

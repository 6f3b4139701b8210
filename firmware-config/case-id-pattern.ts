/** @module The case-number pattern (案件编号格式) of a room profile: a regex source that must compile, and its default. */
import { z } from 'zod';
import { CaseId } from '../protocol/entry.ts';

/**
 * The default pattern: a letter or digit, then letters (CJK included), digits and ()（）〔〕[]_.:- up to 64
 * characters. It takes agency numbers such as `京朝市监罚〔2026〕123号` and plain ids such as
 * `DEMO-2026-0001`, and refuses path characters (/ \), spaces and control characters. It is the
 * protocol's CaseId alphabet, so whatever a profile accepts can also be sealed into an entry.
 */
export const DEFAULT_CASE_ID_PATTERN = '[\\p{L}\\p{N}][\\p{L}\\p{N}()（）〔〕[\\]_.:-]{0,63}';

/**
 * Compiles a pattern source to a RegExp that must match the whole case id (Unicode mode, so `\p{L}`
 * works). Throws a SyntaxError if the source does not compile on its own.
 */
export function compileCaseIdPattern(source: string): RegExp {
  // Compiled alone first: a source with an unbalanced ")" could otherwise escape the anchors below.
  new RegExp(source, 'u');
  return new RegExp(`^(?:${source})$`, 'u');
}

/** True if the source compiles as a Unicode regular expression. */
export function isCompilablePattern(source: string): boolean {
  try {
    compileCaseIdPattern(source);
    return true;
  } catch {
    return false;
  }
}

/**
 * A test for case ids under a profile's pattern. The protocol's CaseId is the floor: even a pattern
 * as loose as `.*` never lets through `a/b`, `../x`, an empty id or control characters.
 */
export function caseIdMatcher(source: string): (caseId: string) => boolean {
  const re = compileCaseIdPattern(source);
  return (caseId) => CaseId.safeParse(caseId).success && re.test(caseId);
}

/** A case-number pattern: a regex source (whole-id match, Unicode mode) that must compile. */
export const CaseIdPattern = z
  .string()
  .min(1)
  .max(500)
  .refine(isCompilablePattern, 'not a valid regular expression (JavaScript syntax, Unicode mode)')
  .describe(
    'case-number pattern (案件编号格式): a JavaScript regular expression source, matched against the whole ' +
      'case id in Unicode mode; path characters and control characters are refused whatever it says',
  );

/**
 * @module The recording elements (记录要素) the operator gives before Start, checked field by field against the
 * room profile, the matter list and the officer list. Pure: every problem becomes a coded error at its field.
 */
import { z } from 'zod';
import { caseIdMatcher } from '../../firmware-config/case-id-pattern.ts';
import type { Matter } from '../../firmware-config/matters.ts';
import type { RoomProfile } from '../../firmware-config/room-profile.ts';
import type { CaseElements } from '../../protocol/entry.ts';
import { CredentialNumber, type Officer } from './officer-list.ts';

/**
 * The Start form as sent. Every field is optional here on purpose: a missing element is a field error
 * the page shows at that field, not a schema failure of the whole request.
 */
export const StartForm = z
  .strictObject({
    caseId: z.string().max(200).optional().describe('case id (案件编号), matched by the profile pattern'),
    matter: z.string().max(100).optional().describe('matter id from the matter list (音像记录事项清单)'),
    officers: z
      .array(z.string().max(100))
      .max(50)
      .optional()
      .describe('credential numbers (执法证号) of the officers present'),
    room: z.string().max(100).optional().describe("the room; when given it must be this gateway's room"),
    startedBy: z.string().max(100).optional().describe('who presses Start (default: console)'),
  })
  .describe('recording elements (记录要素)');
/** The Start form. */
export type StartForm = z.infer<typeof StartForm>;

/** The fields of the form that can carry errors. */
export const FORM_FIELDS = ['caseId', 'matter', 'officers', 'room', 'startedBy'] as const;
/** A field of the Start form. */
export type FormField = (typeof FORM_FIELDS)[number];

/** One problem at one field: a stable code the page translates, its parameters and an English message. */
export interface FieldError {
  code: string;
  message: string;
  params?: Record<string, string | number>;
}

/** Problems by field; empty when the form passes. */
export type FieldErrors = Partial<Record<FormField, FieldError[]>>;

/** What the form is checked against. */
export interface FormRules {
  room: string;
  profile: RoomProfile;
  matters: Matter[];
  /** The officer list, or null when none is configured or synced (then numbers are checked for form only). */
  officers: Officer[] | null;
}

/** The checked form: case elements ready to seal, or the field errors. */
export type CheckedForm =
  | { ok: true; elements: CaseElements; startedBy: string }
  | { ok: false; errors: FieldErrors };

/** Checks every element of the form; collects every problem rather than stopping at the first. */
export function checkStartForm(form: StartForm, rules: FormRules): CheckedForm {
  const errors: FieldErrors = {};
  const add = (field: FormField, error: FieldError) => {
    errors[field] = [...(errors[field] ?? []), error];
  };
  const required = rules.profile.requiredElements;
  const caseId = form.caseId?.trim() ?? '';
  // The case id and the matter are sealed into every open entry, so they are required whatever the profile says.
  if (!caseId) {
    add('caseId', { code: 'required', message: 'enter the case id (案件编号)' });
  } else if (!caseIdMatcher(rules.profile.caseIdPattern)(caseId)) {
    add('caseId', {
      code: 'pattern',
      message: `"${caseId}" does not match the case id pattern of the ${rules.profile.name} profile`,
      params: { value: caseId },
    });
  }
  const matter = form.matter?.trim() ?? '';
  if (!matter) {
    add('matter', { code: 'required', message: 'choose the matter (执法事项)' });
  } else if (!rules.matters.some((m) => m.id === matter)) {
    add('matter', {
      code: 'unknown',
      message: `"${matter}" is not a matter of this room's matter list`,
      params: { value: matter },
    });
  }
  const officers = (form.officers ?? []).map((o) => o.trim()).filter((o) => o !== '');
  const seen = new Set<string>();
  for (const id of officers) {
    if (seen.has(id)) {
      add('officers', { code: 'duplicate', message: `officer ${id} is listed twice`, params: { id } });
      continue;
    }
    seen.add(id);
    if (!CredentialNumber.safeParse(id).success) {
      add('officers', {
        code: 'format',
        message: `"${id}" is not a credential number (4–32 of A-Z, a-z, 0-9 and "-")`,
        params: { id },
      });
    } else if (rules.officers && !rules.officers.some((o) => o.id === id)) {
      add('officers', {
        code: 'unknown',
        message: `credential number ${id} is not on the officer list`,
        params: { id },
      });
    }
  }
  if (seen.size < required.officersMin) {
    add('officers', {
      code: 'too-few',
      message: `at least ${required.officersMin} officers must be present; ${seen.size} given`,
      params: { min: required.officersMin, given: seen.size },
    });
  }
  const room = form.room?.trim() ?? '';
  if (room && room !== rules.room) {
    add('room', {
      code: 'mismatch',
      message: `this gateway records room "${rules.room}", not "${room}"`,
      params: { value: room, room: rules.room },
    });
  }
  const startedBy = form.startedBy?.trim() || 'console';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    elements: { id: caseId, matter, officers: [...seen], room: rules.room },
    startedBy,
  };
}

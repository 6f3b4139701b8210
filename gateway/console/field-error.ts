/** @module The refusal of a Start whose elements are missing or invalid: one coded error carrying the errors of each field. */
import { GatewayError } from '../errors.ts';
import type { FieldErrors } from './start-form.ts';

/** GW_RECORDING_ELEMENTS with the problems of each field, which the console shows at the field. */
export class FieldsError extends GatewayError {
  constructor(readonly fields: FieldErrors) {
    const lines = Object.entries(fields).flatMap(([field, errs]) =>
      (errs ?? []).map((e) => `${field}: ${e.message}`),
    );
    super('GW_RECORDING_ELEMENTS', `the recording cannot start: ${lines.join('; ')}`);
  }
}

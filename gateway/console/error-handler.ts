/** @module The console's one HTTP error handler: coded gateway errors become their status; field errors go back by field. */
import type { FastifyError, FastifyInstance } from 'fastify';
import { GatewayError } from '../errors.ts';
import { FieldsError } from './field-error.ts';
import { type FieldErrors, FORM_FIELDS, type FormField } from './start-form.ts';

/** The HTTP status of each coded error the console answers with; any other code is a 500. */
const HTTP_STATUS: Record<string, number> = {
  GW_RECORDING_ELEMENTS: 400,
  GW_CONSOLE_BAD_REQUEST: 400,
  GW_STOP_UNCONFIRMED: 400,
  GW_RECORDING_ACTIVE: 409,
  GW_RECORDING_NONE: 409,
  GW_DISK_FULL: 507,
  GW_SPOOL_FULL: 507,
};

/**
 * Registers the handler. A request that fails its zod schema is a 400 GW_CONSOLE_BAD_REQUEST; when the failing
 * paths are fields of the Start form, the problems are also given by field, so the page shows them in place.
 */
export function registerConsoleErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof FieldsError) {
      return reply.status(400).send({ error: { code: err.code, message: err.message, fields: err.fields } });
    }
    if (err instanceof GatewayError) {
      const status = HTTP_STATUS[err.code] ?? 500;
      if (status >= 500 && status !== 507)
        req.log.error({ err: { code: err.code, message: err.message } }, 'request failed');
      return reply.status(status).send({ error: { code: err.code, message: err.message } });
    }
    if (err.validation) {
      const fields: FieldErrors = {};
      for (const v of err.validation) {
        const name = v.instancePath.split('/')[1] ?? '';
        const field = (FORM_FIELDS as readonly string[]).includes(name) ? (name as FormField) : null;
        if (field)
          fields[field] = [...(fields[field] ?? []), { code: 'invalid', message: v.message ?? 'invalid' }];
      }
      const where = err.validationContext ?? 'request';
      return reply.status(400).send({
        error: {
          code: 'GW_CONSOLE_BAD_REQUEST',
          message: `the ${where} does not match its schema: ${err.message}`,
          ...(Object.keys(fields).length ? { fields } : {}),
        },
      });
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) req.log.error({ err: { message: err.message } }, 'request failed');
    return reply.status(status).send({
      error: {
        code: status >= 500 ? 'GW_CONSOLE_INTERNAL' : 'GW_CONSOLE_BAD_REQUEST',
        message: status >= 500 ? 'internal error' : err.message,
      },
    });
  });
}

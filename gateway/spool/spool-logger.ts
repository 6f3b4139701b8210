/** @module The logger the spool writes to: the subset of pino it uses, and a silent default. */

/** A pino-like logger: object first, fixed message, child loggers per component. */
export interface SpoolLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  child(bindings: Record<string, unknown>): SpoolLogger;
}

/** A logger that drops everything: the default when none is injected. */
export const silentLogger: SpoolLogger = {
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

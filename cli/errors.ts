/** @module The command line's error catalogue: stable codes and messages a person can act on. */

/** Codes of errors the command line reports before or instead of a verification verdict. */
export const CLI_ERRORS = {
  VERIFY_FOLDER_MISSING: 'the evidence folder does not exist or cannot be opened',
  VERIFY_NOT_A_FOLDER: 'the path given is not a folder',
  VERIFY_KEYS_MISSING: 'the keys folder given with --keys cannot be read',
  CLI_USAGE: 'the command line is not understood',
} as const;
/** A command-line error code. */
export type CliErrorCode = keyof typeof CLI_ERRORS;

/** An error the command line prints as one line, with its code, and exits 2 on. */
export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

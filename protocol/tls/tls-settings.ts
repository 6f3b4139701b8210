/**
 * @module The TLS settings of a listener (issue 10), shared by the ingest (HTTPS API and console,
 * mqtts broker) and the gateway's operator console: `auto` (the default) makes and keeps its own CA
 * and server certificate, `files` uses certificates given in the configuration, `off` is plain text
 * and must be written out, and is then warned about in the log and on the console.
 */
import { z } from 'zod';

/** How a listener gets its certificate. */
export const TlsSettings = z
  .strictObject({
    mode: z
      .enum(['auto', 'files', 'off'])
      .default('auto')
      .describe(
        'auto: make a CA and a server certificate under <dataDir>/tls on first start and print the CA fingerprint; files: use certFile/keyFile/caFile; off: plain text (warned about in the log and on the console)',
      ),
    names: z
      .array(z.string().min(1).max(253))
      .max(32)
      .default([])
      .describe(
        'auto: host names and addresses the server certificate is valid for, beside localhost, 127.0.0.1 and ::1 (and the listen address)',
      ),
    certFile: z
      .string()
      .min(1)
      .optional()
      .describe('files: the server certificate (PEM; may be followed by intermediates)'),
    keyFile: z
      .string()
      .min(1)
      .optional()
      .describe('files: the private key of the server certificate (PEM, mode 0600)'),
    caFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'files: the CA that issued the server certificate and, for mutual TLS, the gateway certificates (PEM)',
      ),
    caKeyFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'files: the private key of that CA (PEM, mode 0600), needed only to issue gateway client certificates',
      ),
  })
  .superRefine((s, ctx) => {
    if (s.mode !== 'files') return;
    for (const field of ['certFile', 'keyFile', 'caFile'] as const) {
      if (!s[field]) ctx.addIssue({ code: 'custom', path: [field], message: `mode "files" needs ${field}` });
    }
  })
  .describe('TLS of this listener; the default is TLS with a generated CA, never plain text');

/** Parsed TLS settings. */
export type TlsSettings = z.infer<typeof TlsSettings>;
/** TLS settings as written. */
export type TlsSettingsInput = z.input<typeof TlsSettings>;

/** Plain text, written out: what a test or a deployment behind a TLS-terminating proxy says. */
export const PLAINTEXT: TlsSettingsInput = Object.freeze({ mode: 'off' as const });

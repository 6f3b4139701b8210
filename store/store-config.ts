/** @module The object-store settings the gateway and ingest configs embed: one zod schema per backend, which is also the type. */
import { z } from 'zod';

/** A local folder, content addressed: the one-machine default. */
export const FsStoreConfig = z
  .object({
    kind: z.literal('fs').describe('a local folder'),
    root: z.string().min(1).describe('folder the objects are kept in (created on first write)'),
  })
  .describe('local-folder object store');
/** A local folder, content addressed: the one-machine default. */
export type FsStoreConfig = z.infer<typeof FsStoreConfig>;

/** Where an S3 bucket is and how to sign requests to it. */
export const S3Settings = z.object({
  endPoint: z
    .string()
    .min(1)
    .regex(/^[^/:\s]+$/, 'a host name or IPv4 address, without scheme, port or path')
    .describe('host name or IP address of the S3 service (MinIO, AWS S3, ...), without scheme or port'),
  port: z.number().int().min(1).max(65535).describe('TCP port of the S3 service (MinIO: 9000)'),
  useSSL: z.boolean().describe('use HTTPS; plain HTTP only on loopback or a trusted network'),
  caFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      "with useSSL: the CA certificate (PEM) the S3 service's certificate must chain to, trusted instead of the system CAs (compose: the ingest CA)",
    ),
  accessKey: z.string().min(1).describe('access key ID'),
  secretKey: z.string().min(1).describe('secret access key'),
  bucket: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      'an S3 bucket name: 3–63 lowercase letters, digits, dots, hyphens',
    )
    .describe('bucket the objects are kept in'),
  region: z.string().min(1).default('us-east-1').describe('region the bucket is in (MinIO: us-east-1)'),
});

/** An S3 bucket (MinIO or any S3): the store at scale. */
export const S3StoreConfig = S3Settings.extend({
  kind: z.literal('s3').describe('an S3 bucket'),
}).describe('S3 (MinIO) object store');
/** An S3 bucket (MinIO or any S3): the store at scale. */
export type S3StoreConfig = z.infer<typeof S3StoreConfig>;

/** Which object store to use, and its settings. */
export const StoreConfig = z
  .discriminatedUnion('kind', [FsStoreConfig, S3StoreConfig])
  .describe('object store: a local folder (fs) or an S3 bucket (s3)');
/** Which object store to use, and its settings. */
export type StoreConfig = z.infer<typeof StoreConfig>;

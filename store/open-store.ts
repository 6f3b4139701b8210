/** @module Opens the object store a config names: the one place that picks the backend. */
import type { z } from 'zod';
import { createFsStore, type FsObjectStore } from './fs-store.ts';
import { createS3Store, type S3ObjectStore } from './s3-store.ts';
import { StoreConfig } from './store-config.ts';

/**
 * Opens the store `config` describes (parsed with StoreConfig; a ZodError names a bad field). Nothing is
 * contacted or created yet: an fs store makes its folder on the first put, and whoever may create buckets
 * (the ingest, never a gateway) calls `ensureBucket()` on an S3 store (`store.kind === 's3'`).
 */
export function openStore(config: z.input<typeof StoreConfig>): FsObjectStore | S3ObjectStore {
  const parsed = StoreConfig.parse(config);
  if (parsed.kind === 'fs') return createFsStore(parsed.root);
  const { kind: _, ...settings } = parsed;
  return createS3Store(settings);
}

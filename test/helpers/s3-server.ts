/** @module Starts s3rver, an S3-compatible server, on 127.0.0.1 with a temp folder and one bucket, for store tests. */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type IncomingHttpHeaders, IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** The little of a Koa context (s3rver is a Koa application) that test middleware touches. */
export interface S3Context {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  status: number;
  type: string;
  body: unknown;
  /** Sets a response header. */
  set(field: string, value: string): void;
}
/** A Koa middleware run before s3rver's own handling of every request. */
export type S3Middleware = (ctx: S3Context, next: () => Promise<void>) => Promise<void> | void;

/** The one method of s3rver's filesystem store patched below. */
interface S3rverStore {
  putObject(object: { content: unknown }): Promise<unknown>;
}

/** The part of s3rver 3.7's API used here (the package ships no types). */
interface S3rverInstance {
  store: S3rverStore;
  /** Koa's middleware stack: s3rver is a Koa application, composed when it starts listening. */
  middleware: S3Middleware[];
  run(): Promise<AddressInfo>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

/** s3rver's fixed credentials. It refuses another access key ID, but does not check SigV4 signatures. */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

/** A running s3rver, with what a client needs to reach it. */
export interface S3Server {
  endPoint: string;
  port: number;
  useSSL: false;
  accessKey: string;
  secretKey: string;
  bucket: string;
  /** The folder s3rver keeps its objects in (removed by close()). */
  directory: string;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
}

/**
 * Answers ListMultipartUploads (`GET /<bucket>?uploads`) with an empty list. s3rver answers it with
 * NotImplemented, and minio's own `putObject` asks it before every multipart upload (to resume one), so
 * without this a multipart upload through minio fails [DEPS: s3rver row].
 */
function emptyMultipartUploads(): S3Middleware {
  return async (ctx, next) => {
    const bucket = /^\/([^/]+)$/.exec(ctx.path)?.[1];
    if (ctx.method !== 'GET' || !bucket || !('uploads' in ctx.query)) return next();
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${bucket}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
      '<NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker>' +
      '<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>' +
      '</ListMultipartUploadsResult>';
  };
}

/**
 * Makes s3rver's PUT Object all or nothing, as S3's and MinIO's are. s3rver writes a body into place as it
 * arrives, so a PUT cut short would leave a partial object under the key, written at a moment nobody can
 * wait for (its handler carries on after the client is gone). Here the body first goes to a spool file, and
 * only a complete one goes into place. Multipart completion passes a stream of parts already on disk: as is.
 */
function atomicPuts(store: S3rverStore, spoolDir: string): void {
  const putObject = store.putObject.bind(store);
  store.putObject = async (object) => {
    const body = object.content;
    if (!(body instanceof IncomingMessage)) return putObject(object);
    const spool = join(spoolDir, randomUUID());
    try {
      await pipeline(body, createWriteStream(spool));
      if (!body.complete) throw new Error('the request body was cut short');
      object.content = createReadStream(spool);
      return await putObject(object);
    } finally {
      await rm(spool, { force: true });
    }
  };
}

/**
 * Starts s3rver on 127.0.0.1 on a free port, silent, with `bucket` created and an empty temp folder, its
 * PUTs made all or nothing and ListMultipartUploads answered (both as S3 does; see above).
 * `middleware` runs first on every request: to record what a client sends, or to play a part s3rver lacks.
 */
export async function startS3Server(
  options: { bucket?: string; middleware?: S3Middleware[] } = {},
): Promise<S3Server> {
  const bucket = options.bucket ?? 'quanlu-test';
  const directory = await mkdtemp(join(tmpdir(), 'quanlu-s3rver-'));
  const spoolDir = await mkdtemp(join(tmpdir(), 'quanlu-s3rver-spool-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  atomicPuts(server.store, spoolDir);
  // First in the stack, so it answers before s3rver's router refuses the request.
  server.middleware.unshift(...(options.middleware ?? []), emptyMultipartUploads());
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    await rm(spoolDir, { recursive: true, force: true });
    throw err;
  }
  return {
    endPoint: '127.0.0.1',
    port: address.port,
    useSSL: false,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    bucket,
    directory,
    async close() {
      const http = server.httpServer;
      if (http) {
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        // A client's keep-alive sockets (or one it abandoned mid-upload) would hold close() open.
        http.closeAllConnections();
        await closed;
      }
      await rm(directory, { recursive: true, force: true });
      await rm(spoolDir, { recursive: true, force: true });
    },
  };
}

/**
 * @module Asks an RTSP camera for its session description (DESCRIBE, RFC 2326 §10.2) over one TCP
 * connection, with Basic or Digest (RFC 2617) credentials from the URL. What ffprobe's quick probe read,
 * without a process: an ffprobe costs ~35 ms of CPU to start, as much as a camera's ffmpeg records in a second.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { GatewayError } from '../errors.ts';

/** A camera's answer to DESCRIBE. */
export interface DescribeAnswer {
  status: number;
  reason: string;
  headers: Map<string, string[]>;
  body: string;
}

/** Largest answer read: a session description is a few hundred bytes; a camera sending more is not one. */
const MAX_BYTES = 64 * 1024;

/** The value of an Authorization header answering a Digest challenge (RFC 2617 §3.2.2; MD5, qop auth or none). */
export function digestAuthorization(o: {
  username: string;
  password: string;
  method: string;
  uri: string;
  challenge: Record<string, string>;
  cnonce?: string;
}): string {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const { realm = '', nonce = '', opaque } = o.challenge;
  const ha1 = md5(`${o.username}:${realm}:${o.password}`);
  const ha2 = md5(`${o.method}:${o.uri}`);
  const qop = o.challenge.qop
    ?.split(',')
    .map((q) => q.trim())
    .includes('auth')
    ? 'auth'
    : null;
  const cnonce = o.cnonce ?? randomBytes(8).toString('hex');
  const nc = '00000001';
  const response = qop ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
  const q = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;
  const parts = [
    `username=${q(o.username)}`,
    `realm=${q(realm)}`,
    `nonce=${q(nonce)}`,
    `uri=${q(o.uri)}`,
    `response=${q(response)}`,
    ...(opaque !== undefined ? [`opaque=${q(opaque)}`] : []),
    ...(o.challenge.algorithm ? [`algorithm=${o.challenge.algorithm}`] : []),
    ...(qop ? [`qop=${qop}`, `nc=${nc}`, `cnonce=${q(cnonce)}`] : []),
  ];
  return `Digest ${parts.join(', ')}`;
}

/** The parameters of a `Digest k="v", ...` or `Basic realm="..."` challenge; keys lower case. */
export function challengeParams(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const m of (space < 0 ? '' : header.slice(space + 1)).matchAll(re)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return { scheme, params };
}

/** Parses one complete answer from `buf`, or returns null when more bytes are needed. */
function parseAnswer(buf: Buffer): DescribeAnswer | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^RTSP\/1\.\d (\d{3}) ?(.*)$/.exec(lines[0] ?? '');
  if (!status) throw new Error(`not an RTSP answer: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    headers.set(key, [...(headers.get(key) ?? []), line.slice(colon + 1).trim()]);
  }
  const length = Number(headers.get('content-length')?.[0] ?? 0);
  if (!Number.isInteger(length) || length < 0 || length > MAX_BYTES) throw new Error('bad Content-Length');
  if (buf.length < end + 4 + length) return null;
  return {
    status: Number(status[1]),
    reason: status[2] ?? '',
    headers,
    body: buf.subarray(end + 4, end + 4 + length).toString('utf8'),
  };
}

/** One request on an open connection; resolves with the answer. */
function request(socket: Socket, text: string): Promise<DescribeAnswer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, answer?: DescribeAnswer) => {
      socket.off('data', onData).off('error', onError).off('close', onClose);
      if (err) reject(err);
      else resolve(answer!);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        const answer = parseAnswer(buf);
        if (answer) done(null, answer);
        else if (buf.length > MAX_BYTES) done(new Error('answer too long'));
      } catch (err) {
        done(err as Error);
      }
    };
    const onError = (err: Error) => done(err);
    const onClose = () =>
      done(Object.assign(new Error('the camera closed the connection'), { code: 'ECONNRESET' }));
    socket.on('data', onData).on('error', onError).on('close', onClose);
    socket.write(text);
  });
}

/** Network failures that mean the camera is not there (as ffprobe's are classified). */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
]);

/** Opens a connection, sends one request, reads its answer and closes; gives up at `deadline` (epoch ms). */
async function exchange(host: string, port: number, text: string, deadline: number): Promise<DescribeAnswer> {
  const socket = connect({ host, port });
  const timer = setTimeout(
    () => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    Math.max(0, deadline - Date.now()),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve).once('error', reject);
    });
    return await request(socket, text);
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/**
 * Sends DESCRIBE for `url` (rtsp://[user:password@]host[:port]/path) and returns the answer, whatever its
 * status; a 401 is answered once, on a new connection, with the URL's credentials (Digest preferred over
 * Basic). Errors: GW_CAMERA_UNREACHABLE when the camera does not answer within `timeoutMs` or the connection
 * fails, GW_CAPTURE_FAILED when what it sends is not RTSP.
 */
export async function describe(url: string, where: string, timeoutMs: number): Promise<DescribeAnswer> {
  const u = new URL(url);
  if (u.protocol !== 'rtsp:') throw new GatewayError('GW_CAPTURE_FAILED', `${where}: not an rtsp:// URL`);
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const uri = u.toString();
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(u.port || 554);
  const deadline = Date.now() + timeoutMs;
  const send = (cseq: number, authorization?: string) =>
    exchange(
      host,
      port,
      `DESCRIBE ${uri} RTSP/1.0\r\nCSeq: ${cseq}\r\nAccept: application/sdp\r\nUser-Agent: quanlu\r\n` +
        (authorization ? `Authorization: ${authorization}\r\n` : '') +
        '\r\n',
      deadline,
    );
  try {
    const first = await send(1);
    if (first.status !== 401 || !username) return first;
    const challenges = (first.headers.get('www-authenticate') ?? []).map(challengeParams);
    const digest = challenges.find((c) => c.scheme === 'digest');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (digest) {
      return await send(
        2,
        digestAuthorization({ username, password, method: 'DESCRIBE', uri, challenge: digest.params }),
      );
    }
    if (basic) return await send(2, `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
    return first;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code && UNREACHABLE.has(e.code)) {
      throw new GatewayError('GW_CAMERA_UNREACHABLE', `${where} does not answer: ${e.code} ${e.message}`);
    }
    throw new GatewayError('GW_CAPTURE_FAILED', `${where}: ${e.message}`, { cause: err });
  }
}

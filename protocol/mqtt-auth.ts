/** @module The MQTT password of a gateway: a short-lived token signed with its enrolled Ed25519 key. */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes, canonicalText } from './canonical.ts';
import { GatewayId } from './entry.ts';
import { Base64Url, sha256 } from './hash.ts';
import { type KeyPair, type PublicKey, parsePublicKey, signDigest, verifyDigest } from './keys.ts';
import { type Clock, IsoTime, isoTime, timeMs } from './time.ts';

/** How far a token's `at` may be from the broker's clock, either way, by default (5 min). */
export const MQTT_TOKEN_MAX_SKEW_MS = 300_000;

/** Longest password we parse: a token is ~300 bytes; anything far larger is refused unread. */
const MAX_PASSWORD_BYTES = 2048;

/** Names what the signature is for, so no other signed message can be replayed as a password. */
const PURPOSE = 'mqtt-connect';

/** The signed fields of a token. */
const TokenBody = z.strictObject({
  purpose: z.literal(PURPOSE).describe('what the token is for: always "mqtt-connect"'),
  gateway: GatewayId.describe('the gateway id; must equal the MQTT username'),
  publicKey: Base64Url.describe('the raw Ed25519 public key the token is signed with, base64url'),
  at: IsoTime.describe('when the token was made, on the gateway clock'),
  nonce: Base64Url.min(16).max(64).describe('random, so that no two tokens are equal'),
});

/** The MQTT password of a gateway: the signed fields plus `sig`, as canonical JSON. */
export const MqttToken = TokenBody.extend({
  sig: Base64Url.describe('Ed25519 over sha256(canonical token without sig), context "message"'),
});
/** The MQTT password of a gateway. */
export type MqttToken = z.infer<typeof MqttToken>;

/** What {@link checkMqttPassword} concludes. */
export type MqttPasswordCheck =
  | {
      ok: true;
      gateway: string;
      publicKey: PublicKey;
      publicKeyText: string;
      fingerprint: string;
      at: IsoTime;
    }
  | { ok: false; reason: string };

/**
 * Makes a fresh MQTT password for a gateway (username = the gateway id). A token is valid for
 * {@link MQTT_TOKEN_MAX_SKEW_MS} around `at`, so a long-lived client makes a new one before each
 * reconnect: with MQTT.js, `client.on('reconnect', () => { client.options.password = makeMqttPassword(...) })`.
 */
export function makeMqttPassword(gateway: string, keyPair: KeyPair, clock: Clock): string {
  const body = TokenBody.parse({
    purpose: PURPOSE,
    gateway,
    publicKey: keyPair.publicKeyText,
    at: isoTime(clock.now()),
    nonce: randomBytes(16).toString('base64url'),
  });
  const sig = signDigest(keyPair.privateKey, 'message', sha256(canonicalBytes(body)));
  return canonicalText({ ...body, sig });
}

/**
 * Checks a gateway's MQTT password: the token parses, names the username as its gateway, carries a
 * key that passes {@link parsePublicKey}, is signed by that key (strictly), and was made within
 * `maxSkewMs` of `now`. It proves possession of the key; whether the key is the gateway's enrolled
 * one is for the caller to decide.
 */
export function checkMqttPassword(
  username: string | undefined,
  password: string | Uint8Array | undefined,
  now: number,
  maxSkewMs: number = MQTT_TOKEN_MAX_SKEW_MS,
): MqttPasswordCheck {
  if (username === undefined || password === undefined) return fail('no username or password');
  if (password.length > MAX_PASSWORD_BYTES) return fail('password is too long to be a token');
  const text = typeof password === 'string' ? password : Buffer.from(password).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail('password is not JSON');
  }
  const parsed = MqttToken.safeParse(json);
  if (!parsed.success) return fail(`password is not a token: ${parsed.error.issues[0]?.message}`);
  const { sig, ...body } = parsed.data;
  if (body.gateway !== username) return fail('token names another gateway than the username');
  const publicKey = parsePublicKey(body.publicKey);
  if (typeof publicKey === 'string') return fail(`token key refused: ${publicKey}`);
  const problem = verifyDigest(publicKey, 'message', sha256(canonicalBytes(body)), sig);
  if (problem) return fail(`token signature refused: ${problem}`);
  const skew = timeMs(body.at) - now;
  if (Math.abs(skew) > maxSkewMs) {
    const side = skew < 0 ? 'behind' : 'ahead of';
    return fail(`token time is ${Math.abs(skew)} ms ${side} the broker clock (allowed: ${maxSkewMs} ms)`);
  }
  return {
    ok: true,
    gateway: body.gateway,
    publicKey,
    publicKeyText: body.publicKey,
    fingerprint: publicKey.fingerprint,
    at: body.at,
  };
}

function fail(reason: string): MqttPasswordCheck {
  return { ok: false, reason };
}

import t from 'tap';
import { canonicalBytes, canonicalText } from '../../protocol/canonical.ts';
import { sha256, toBase64Url } from '../../protocol/hash.ts';
import { type KeyPair, keyPairFromSeed, signDigest } from '../../protocol/keys.ts';
import { checkMqttPassword, MQTT_TOKEN_MAX_SKEW_MS, makeMqttPassword } from '../../protocol/mqtt-auth.ts';
import { isoTime } from '../../protocol/time.ts';

const T0 = Date.parse('2026-11-27T03:35:28.000Z');
const clock = { now: () => T0 };
const A = keyPairFromSeed(Buffer.alloc(32, 1));
const B = keyPairFromSeed(Buffer.alloc(32, 2));
/** Order of the Ed25519 base point, little-endian as S is encoded. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function token(password: string): Record<string, string> {
  return JSON.parse(password) as Record<string, string>;
}

/** A token with chosen fields, signed by `signer` over exactly those fields. */
function signed(body: Record<string, string>, signer: KeyPair = A): string {
  return canonicalText({
    ...body,
    sig: signDigest(signer.privateKey, 'message', sha256(canonicalBytes(body))),
  });
}

function reason(result: ReturnType<typeof checkMqttPassword>): string {
  return result.ok ? 'ok' : result.reason;
}

t.test('a fresh password checks out and names the gateway and its key', async (t) => {
  const password = makeMqttPassword('gw-a', A, clock);
  const result = checkMqttPassword('gw-a', Buffer.from(password), T0);
  t.match(result, {
    ok: true,
    gateway: 'gw-a',
    fingerprint: A.publicKey.fingerprint,
    publicKeyText: A.publicKeyText,
    at: isoTime(T0),
  });
  t.equal(password, canonicalText(token(password)), 'the password is canonical JSON');
  t.same(Object.keys(token(password)).sort(), ['at', 'gateway', 'nonce', 'publicKey', 'purpose', 'sig']);
  t.not(makeMqttPassword('gw-a', A, clock), password, 'the nonce makes every token different');
});

t.test('a token is refused when any signed field is changed', async (t) => {
  const { sig, ...body } = token(makeMqttPassword('gw-a', A, clock));
  for (const [field, value] of [
    ['at', isoTime(T0 + 1)],
    ['nonce', 'AAAAAAAAAAAAAAAAAAAAAA'],
    ['gateway', 'gw-b'],
  ] as const) {
    const changed = canonicalText({ ...body, [field]: value, sig });
    t.match(
      reason(checkMqttPassword(field === 'gateway' ? 'gw-b' : 'gw-a', changed, T0)),
      /signature/,
      field,
    );
  }
});

t.test("a token naming one key but signed by another is refused (B's key, A's signature)", async (t) => {
  const { sig: _sig, ...body } = token(makeMqttPassword('gw-a', A, clock));
  const forged = signed({ ...body, publicKey: B.publicKeyText }, A);
  t.match(reason(checkMqttPassword('gw-a', forged, T0)), /signature does not verify/);
});

t.test('a malleated signature (S + L, same point arithmetic) is refused as non-canonical', async (t) => {
  const parsed = token(makeMqttPassword('gw-a', A, clock));
  const sig = Buffer.from(parsed.sig!, 'base64url');
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
  s += L;
  for (let i = 32; i < 64; i++) {
    sig[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  const malleated = canonicalText({ ...parsed, sig: toBase64Url(sig) });
  t.match(reason(checkMqttPassword('gw-a', malleated, T0)), /signature refused/);
});

t.test('a small-order public key is refused, whatever the signature', async (t) => {
  const { sig, ...body } = token(makeMqttPassword('gw-a', A, clock));
  const identity = toBase64Url(Buffer.concat([Buffer.of(1), Buffer.alloc(31)]));
  const password = canonicalText({ ...body, publicKey: identity, sig });
  t.match(reason(checkMqttPassword('gw-a', password, T0)), /token key refused/);
});

t.test('a token for another username, or with another purpose or extra fields, is refused', async (t) => {
  const password = makeMqttPassword('gw-a', A, clock);
  t.match(reason(checkMqttPassword('gw-b', password, T0)), /another gateway than the username/);
  const { sig: _sig, ...body } = token(password);
  t.match(reason(checkMqttPassword('gw-a', signed({ ...body, purpose: 'entry' }), T0)), /not a token/);
  t.match(reason(checkMqttPassword('gw-a', signed({ ...body, extra: 'x' }), T0)), /not a token/);
  t.match(reason(checkMqttPassword('gw-a', signed({ ...body, gateway: 'GW_A' }), T0)), /not a token/);
});

t.test('a password that is missing, too long or not JSON is refused without parsing it', async (t) => {
  t.equal(reason(checkMqttPassword(undefined, 'x', T0)), 'no username or password');
  t.equal(reason(checkMqttPassword('gw-a', undefined, T0)), 'no username or password');
  t.equal(reason(checkMqttPassword('gw-a', 'x'.repeat(4096), T0)), 'password is too long to be a token');
  t.equal(reason(checkMqttPassword('gw-a', 'hunter2', T0)), 'password is not JSON');
});

t.test('the time window is ±5 min by default, inclusive, and configurable', async (t) => {
  const password = makeMqttPassword('gw-a', A, clock);
  t.equal(reason(checkMqttPassword('gw-a', password, T0 + MQTT_TOKEN_MAX_SKEW_MS)), 'ok');
  t.equal(reason(checkMqttPassword('gw-a', password, T0 - MQTT_TOKEN_MAX_SKEW_MS)), 'ok');
  t.match(
    reason(checkMqttPassword('gw-a', password, T0 + MQTT_TOKEN_MAX_SKEW_MS + 1)),
    /300001 ms behind the broker clock/,
  );
  t.match(
    reason(checkMqttPassword('gw-a', password, T0 - MQTT_TOKEN_MAX_SKEW_MS - 1)),
    /300001 ms ahead of the broker clock/,
  );
  t.match(reason(checkMqttPassword('gw-a', password, T0 + 2_000, 1_000)), /allowed: 1000 ms/);
});

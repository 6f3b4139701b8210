/** @module Strict Ed25519 encoding checks (RFC 8032 §5.1.3) that node:crypto does not make [DESIGN invariant 7]. */

const P = 2n ** 255n - 19n;
/** The order of the prime-order subgroup (RFC 8032 §5.1). */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const D = mod(-121665n * inv(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

function mod(a: bigint): bigint {
  const r = a % P;
  return r >= 0n ? r : r + P;
}

function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

function inv(a: bigint): bigint {
  return pow(a, P - 2n);
}

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] ?? 0);
  return n;
}

interface Point {
  x: bigint;
  y: bigint;
}

/**
 * Decodes a 32-byte point encoding, refusing non-canonical ones: y ≥ p, a point not on the
 * curve, or x = 0 with the sign bit set ("negative zero").
 */
export function decodePoint(bytes: Uint8Array): Point | null {
  if (bytes.length !== 32) return null;
  const n = littleEndian(bytes);
  const sign = n >> 255n;
  const y = n & ((1n << 255n) - 1n);
  if (y >= P) return null;
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
  const vx2 = mod(v * x * x);
  if (vx2 === u) {
    // x is a root
  } else if (vx2 === mod(-u)) {
    x = mod(x * SQRT_M1);
  } else {
    return null;
  }
  if (x === 0n && sign === 1n) return null;
  if ((x & 1n) !== sign) x = P - x;
  return { x, y };
}

function add(a: Point, b: Point): Point {
  const t = mod(D * a.x * b.x * a.y * b.y);
  return {
    x: mod((a.x * b.y + a.y * b.x) * inv(1n + t)),
    y: mod((a.y * b.y + a.x * b.x) * inv(1n - t)),
  };
}

/** True when 8·P is the identity: such a point lets one signature verify for many messages. */
export function isSmallOrder(point: Point): boolean {
  let q = point;
  for (let i = 0; i < 3; i++) q = add(q, q);
  return q.x === 0n && q.y === 1n;
}

/** Why a public key encoding is refused, or null when it is acceptable. */
export function publicKeyProblem(bytes: Uint8Array): string | null {
  if (bytes.length !== 32) return `an Ed25519 public key is 32 bytes, got ${bytes.length}`;
  const point = decodePoint(bytes);
  if (!point) return 'not a canonical encoding of a point on Ed25519';
  if (isSmallOrder(point)) return 'a point of small order (such a key verifies forged signatures)';
  return null;
}

/** Why a signature encoding is refused, or null when R is canonical and S < L (RFC 8032 §5.1.7). */
export function signatureProblem(sig: Uint8Array): string | null {
  if (sig.length !== 64) return `an Ed25519 signature is 64 bytes, got ${sig.length}`;
  if (littleEndian(sig.subarray(32)) >= L) return 'signature scalar S is not reduced (S ≥ L)';
  const r = sig.subarray(0, 32);
  const y = littleEndian(r) & ((1n << 255n) - 1n);
  if (y >= P) return 'signature point R is not a canonical encoding (y ≥ p)';
  if ((r[31]! & 0x80) !== 0 && (y === 1n || y === P - 1n))
    return 'signature point R is not a canonical encoding (x = 0 with the sign bit set)';
  // Those are the only non-canonical encodings; an R that is no point at all cannot verify, since the
  // verification compares R byte for byte with the canonical encoding of the point it computes
  // (RFC 8032 §5.1.7 step 3). So no square root is taken here: this runs for every signature.
  return null;
}

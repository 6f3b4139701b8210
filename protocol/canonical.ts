/** @module Canonical JSON (RFC 8785, JCS): the only way quanlu turns a value into bytes to hash or sign. */
import canonicalize from 'canonicalize';

/** The RFC 8785 canonical form of a JSON value, as UTF-8 bytes. */
export function canonicalBytes(value: unknown): Buffer {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return Buffer.from(text, 'utf8');
}

/** The RFC 8785 canonical form of a JSON value, as text. */
export function canonicalText(value: unknown): string {
  return canonicalBytes(value).toString('utf8');
}

/**
 * @module Diagnostic of the ingest bench: what each step of the consumer's per-entry check costs (JSON.parse,
 * the envelope and entry schemas, the canonical hash, the point checks and the Ed25519 verify), on one core.
 * `node --import tsx bench/ingest/verify-cost.ts [--entries 2000]`
 */
import { randomBytes, randomUUID, verify } from 'node:crypto';
import { parseArgs } from 'node:util';
import { TrackChain } from '../../protocol/chain.ts';
import { signatureProblem } from '../../protocol/ed25519-point.ts';
import { Entry, entryHash, SignedEntry } from '../../protocol/entry.ts';
import { fromBase64Url, sha256Hex } from '../../protocol/hash.ts';
import { generateKeyPair, signedMessage, verifyDigest } from '../../protocol/keys.ts';
import { isoTime } from '../../protocol/time.ts';

const { values: args } = parseArgs({ options: { entries: { type: 'string', default: '2000' } } });
const n = Number(args.entries);
const kp = generateKeyPair();
const chain = new TrackChain({
  gateway: 'gw-cost',
  keyFingerprint: kp.publicKey.fingerprint,
  privateKey: kp.privateKey,
  recording: randomUUID(),
  track: 'cam-1',
});
const clock = { offsetMs: 0, rttMs: null, source: 'none' } as const;
const payloads: string[] = [];
for (let i = 0; i < n; i++) {
  const sha256 = sha256Hex(randomBytes(64));
  const at = isoTime(Date.UTC(2026, 0, 5) + i * 2000);
  const signed =
    i === 0
      ? chain.open({
          sealedAt: at,
          clock,
          start: at,
          continuity: 'continuous',
          case: null,
          source: { kind: 'camera', name: 'c', device: null, officer: null },
          startedBy: 'bench',
        })
      : chain.segment({
          sealedAt: at,
          clock,
          object: { sha256, size: 64 },
          start: at,
          durationMs: 2000,
          container: 'mpegts',
          name: null,
        });
  payloads.push(JSON.stringify(signed));
}
const raws = payloads.map((p) => JSON.parse(p) as SignedEntry);
const digests = raws.map((r) => entryHash(r.entry));
const sigs = raws.map((r) => fromBase64Url(r.sig)!);

function time(name: string, fn: (i: number) => unknown): void {
  for (let i = 0; i < Math.min(200, n); i++) fn(i); // warm up
  const t = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const us = ((performance.now() - t) * 1000) / n;
  process.stderr.write(`${name.padEnd(34)} ${us.toFixed(1).padStart(8)} µs/entry\n`);
}
time('JSON.parse', (i) => JSON.parse(payloads[i]!));
time('SignedEntry.safeParse', (i) => SignedEntry.safeParse(raws[i]));
time('Entry.safeParse', (i) => Entry.safeParse(raws[i]!.entry));
time('entryHash (JCS + SHA-256)', (i) => entryHash(raws[i]!.entry));
time('signatureProblem (point checks)', (i) => signatureProblem(sigs[i]!));
time('crypto.verify (Ed25519)', (i) =>
  verify(null, signedMessage('entry', digests[i]!), kp.publicKey.key, sigs[i]!),
);
time('verifyDigest (checks + verify)', (i) => verifyDigest(kp.publicKey, 'entry', digests[i]!, raws[i]!.sig));

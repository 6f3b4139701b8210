/**
 * @module Checks the audit log in the database against the audit heads the signed tree heads commit to
 * [EVIDENCE §20.2, §20.5]: the chain must still hold from genesis, reach every signed size, and give the
 * signed hash at each. A record edited (and the chain recomputed after it) or removed is caught.
 */
import { AUDIT_GENESIS, type AuditHead, verifyAuditChain } from '../auth/audit-chain.ts';
import { auditPage } from '../db/audit-store.ts';
import * as store from '../db/log-store.ts';
import type { Queryable } from '../db/rows.ts';

const PAGE = 1000;

/** What the check found: ok, or the first signed head the audit log no longer gives, and why. */
export type AuditHeadCheck =
  | { ok: true; heads: number; records: number }
  | { ok: false; treeHead: number; problem: string };

/**
 * Walks the audit chain from genesis once and compares it with the audit head of every stored signed
 * tree head (or with `only`, when given: one signed head's audit member).
 */
export async function checkAuditHeads(
  db: Queryable,
  only?: { size: number; hash: string } | null,
): Promise<AuditHeadCheck> {
  const claims =
    only === undefined
      ? (await store.latestTreeHeads(db, 1_000_000)).map((h) => ({ id: h.id, audit: h.sth.head.audit }))
      : [{ id: 0, audit: only }];
  const wanted = new Map<number, { id: number; hash: string }[]>();
  for (const c of claims) {
    if (!c.audit) continue;
    wanted.set(c.audit.size, [...(wanted.get(c.audit.size) ?? []), { id: c.id, hash: c.audit.hash }]);
  }
  const largest = Math.max(0, ...wanted.keys());
  let head: AuditHead = { size: 0, hash: AUDIT_GENESIS };
  while (head.size < largest) {
    const page = (await auditPage(db, head.size, Math.min(PAGE, largest - head.size))).filter(
      (r) => r.seq < largest,
    );
    const verdict = verifyAuditChain(page, head);
    if (!verdict.ok) {
      const claim = [...wanted.entries()].filter(([size]) => size > verdict.seq).sort((a, b) => a[0] - b[0]);
      return { ok: false, treeHead: claim[0]![1][0]!.id, problem: `audit log: ${verdict.message}` };
    }
    for (const r of page) {
      for (const w of wanted.get(r.seq + 1) ?? [])
        if (w.hash !== r.hash)
          return {
            ok: false,
            treeHead: w.id,
            problem: `audit record ${r.seq} is not the record the signed head names (${w.hash})`,
          };
    }
    if (page.length === 0) {
      const claim = [...wanted.entries()].filter(([size]) => size > head.size).sort((a, b) => a[0] - b[0]);
      return {
        ok: false,
        treeHead: claim[0]![1][0]!.id,
        problem: `the audit log ends after ${head.size} records; a signed head names ${claim[0]![0]}`,
      };
    }
    head = verdict.head;
  }
  return { ok: true, heads: claims.length, records: head.size };
}

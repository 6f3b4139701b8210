/** @module Shared pieces of the end-to-end failure tests: a fresh PostgreSQL schema, waiting on events with a limit, draining a gateway's backlog. */
import type { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Test } from 'tap';
import type { Gateway } from '../../gateway/gateway.ts';
import type { Entry } from '../../protocol/entry.ts';
import { postgresUrl } from '../helpers/databases.ts';

let schemas = 0;

/** A database config for a fresh PostgreSQL schema, dropped when the test ends (after later teardowns). */
export async function freshPostgres(
  t: Test,
  label: string,
): Promise<{ kind: 'postgres'; url: string; schema: string }> {
  const url = await postgresUrl();
  const schema = `quanlu_e2e_${label}_${process.pid}_${++schemas}_${Math.random().toString(36).slice(2, 8)}`;
  t.teardown(async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    } finally {
      await admin.end();
    }
  });
  return { kind: 'postgres', url, schema };
}

/**
 * Resolves once `done()` holds, checking it after each `event` of `emitter`; rejects with `what` when
 * `limitMs` passes first (a guard so a defect fails the test with a reason instead of hanging it).
 */
export function waitUntil(
  emitter: EventEmitter,
  event: string,
  done: () => boolean,
  limitMs: number,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (done()) return resolve();
    const check = () => {
      if (!done()) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: not reached within ${limitMs} ms`));
    }, limitMs);
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, check);
    };
    emitter.on(event, check);
  });
}

/** Waits until the gateway's spool holds no unacknowledged entry (each acknowledgement re-checks). */
export async function drainBacklog(gw: Gateway, limitMs: number): Promise<void> {
  await waitUntil(
    gw.uplink!,
    'acknowledged',
    () => gw.spool.backlog().entries === 0,
    limitMs,
    `the backlog (${gw.spool.backlog().entries} entries) drains`,
  );
}

/** Every entry the gateway sealed for these tracks, in chain order. */
export function sealedEntries(
  gw: Gateway,
  recording: string,
  tracks: readonly string[],
): { hash: string; entry: Entry }[] {
  return tracks.flatMap((track) =>
    gw.spool.chain(recording, track).map((s) => ({ hash: s.hash, entry: s.entry as Entry })),
  );
}

/** @module The life of a spooled entry: sealed → uploaded → acknowledged (or rejected), forwards only. */
import { GatewayError } from '../errors.ts';

/** Where a spooled entry stands with respect to the ingest. */
export type EntryState = 'sealed' | 'uploaded' | 'acknowledged' | 'rejected';

/** Every state, for schema checks. */
export const ENTRY_STATES: readonly EntryState[] = ['sealed', 'uploaded', 'acknowledged', 'rejected'];

/** How far along each state is; acknowledged and rejected are the two outcomes of one upload. */
const RANK: Record<EntryState, number> = { sealed: 0, uploaded: 1, acknowledged: 2, rejected: 2 };

/**
 * Checks a transition. Returns false when the entry is already in `to` (a repeated ack or upload
 * report is harmless), true when it moves one step forwards, and throws GW_SPOOL_STATE when it would
 * move backwards, skip a step, or turn one outcome into the other.
 */
export function checkTransition(hash: string, from: EntryState, to: EntryState): boolean {
  if (from === to) return false;
  if (RANK[to] === RANK[from] + 1) return true;
  const why =
    RANK[to] === RANK[from]
      ? 'the ingest answers an entry once: acknowledged and rejected are final'
      : RANK[to] < RANK[from]
        ? 'states never move backwards'
        : 'no state may be skipped';
  throw new GatewayError('GW_SPOOL_STATE', `entry ${hash} is ${from} and cannot become ${to}: ${why}`);
}

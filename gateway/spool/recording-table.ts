/** @module The running recording, kept beside the spool so a restarted gateway resumes it. */
import type { Database, Statement } from 'better-sqlite3';
import { GatewayError } from '../errors.ts';

/** A recording as begun on the console; `case` and `tracks` are stored as JSON and returned as read. */
export interface SpoolRecording {
  id: string;
  /** The case elements (JSON); parse with the recording's schema when reading it back. */
  case: unknown;
  room: string;
  startedBy: string;
  /** UTC ISO-8601 with milliseconds. */
  startedAt: string;
  /** The tracks of the recording (JSON); parse with the recording's schema when reading it back. */
  tracks: unknown;
  /** UTC ISO-8601 with milliseconds; null while it runs. */
  endedAt: string | null;
}

interface RecordingRow {
  id: string;
  case_json: string;
  room: string;
  started_by: string;
  started_at: string;
  tracks_json: string;
  ended_at: string | null;
}

/** Typed access to the recordings table. */
export class RecordingTable {
  readonly #db: Database;
  readonly #insert: Statement<[RecordingRow]>;
  readonly #active: Statement<[], RecordingRow>;
  readonly #get: Statement<[string], RecordingRow>;
  readonly #end: Statement<[string, string]>;

  constructor(db: Database) {
    this.#db = db;
    this.#insert = db.prepare(`
      INSERT INTO recordings (id, case_json, room, started_by, started_at, tracks_json, ended_at)
      VALUES (@id, @case_json, @room, @started_by, @started_at, @tracks_json, @ended_at)`);
    this.#active = db.prepare('SELECT * FROM recordings WHERE ended_at IS NULL');
    this.#get = db.prepare('SELECT * FROM recordings WHERE id = ?');
    this.#end = db.prepare('UPDATE recordings SET ended_at = ? WHERE id = ? AND ended_at IS NULL');
  }

  /**
   * Records that a recording runs. Beginning the running recording again is a no-op; beginning another
   * while one runs is GW_RECORDING_ACTIVE.
   */
  begin(recording: Omit<SpoolRecording, 'endedAt'>): SpoolRecording {
    return this.#db
      .transaction(() => {
        const active = this.#active.get();
        if (active?.id === recording.id) return fromRow(active);
        if (active) {
          throw new GatewayError(
            'GW_RECORDING_ACTIVE',
            `recording ${active.id} in ${active.room} is still running: stop it before starting ${recording.id}`,
          );
        }
        if (this.#get.get(recording.id)) {
          throw new GatewayError(
            'GW_SPOOL_INVALID_INPUT',
            `recording ${recording.id} has already ended: a new recording needs a new id`,
          );
        }
        const row: RecordingRow = {
          id: recording.id,
          case_json: JSON.stringify(recording.case),
          room: recording.room,
          started_by: recording.startedBy,
          started_at: recording.startedAt,
          tracks_json: JSON.stringify(recording.tracks),
          ended_at: null,
        };
        this.#insert.run(row);
        return fromRow(row);
      })
      .immediate();
  }

  /** The running recording, if any. */
  active(): SpoolRecording | null {
    const row = this.#active.get();
    return row ? fromRow(row) : null;
  }

  /** Ends a recording; ending it again is a no-op; an unknown id is GW_RECORDING_NONE. */
  end(id: string, endedAt: string): SpoolRecording {
    return this.#db
      .transaction(() => {
        this.#end.run(endedAt, id);
        const row = this.#get.get(id);
        if (!row) throw new GatewayError('GW_RECORDING_NONE', `no recording ${id} was begun on this gateway`);
        return fromRow(row);
      })
      .immediate();
  }
}

function fromRow(row: RecordingRow): SpoolRecording {
  return {
    id: row.id,
    case: JSON.parse(row.case_json),
    room: row.room,
    startedBy: row.started_by,
    startedAt: row.started_at,
    tracks: JSON.parse(row.tracks_json),
    endedAt: row.ended_at,
  };
}

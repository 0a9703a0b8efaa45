import { EventEmitter } from 'node:events';
import type { PGlite } from '@electric-sql/pglite';

/**
 * A pg-compatible Pool over one embedded PGlite database, for TypeORM's postgres driver.
 *
 * PGlite is a single connection. typeorm-pglite hands that one connection to every query
 * runner at once, so two concurrent transactions interleave their statements: one's
 * ROLLBACK undoes the other's work and BEGIN warns "already in progress". Here a query
 * runner owns the connection from connect() until release(), exactly like a pg pool of
 * size one: transactions are serialised and atomic, the same semantics as PostgreSQL.
 */
class Mutex {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return ready;
  }
}

interface PgLikeResult {
  rows: unknown[];
  rowCount: number;
  command: string;
  fields: unknown[];
}

type Callback = (err: Error | null, result?: PgLikeResult) => void;

function commandOf(sql: string): string {
  const match = /^\s*([a-zA-Z]+)/.exec(sql);
  return match ? match[1].toUpperCase() : '';
}

class PgliteClient extends EventEmitter {
  constructor(private readonly db: PGlite) {
    super();
  }

  async query(sql: string, params?: unknown[] | Callback, cb?: Callback): Promise<PgLikeResult> {
    const callback = typeof params === 'function' ? params : cb;
    const values = typeof params === 'function' ? undefined : params;
    try {
      const raw =
        values && values.length > 0
          ? await this.db.query(sql, values)
          : ((await this.db.exec(sql)).at(-1) ?? { rows: [], fields: [], affectedRows: 0 });
      const result: PgLikeResult = {
        rows: raw.rows,
        // PGlite reports affectedRows 0 for a SELECT, where pg counts the rows returned.
        rowCount: raw.affectedRows || raw.rows.length,
        command: commandOf(sql),
        fields: raw.fields,
      };
      callback?.(null, result);
      return result;
    } catch (err) {
      if (callback) {
        callback(err as Error);
        return { rows: [], rowCount: 0, command: '', fields: [] };
      }
      throw err;
    }
  }
}

export interface PgliteDriverModule {
  Pool: new () => EventEmitter;
  defaults: Record<string, unknown>;
}

/** Build the `driver` option for TypeORM: a module-shaped object with a Pool class. */
export function pgliteDriver(open: () => Promise<PGlite>): PgliteDriverModule {
  let db: Promise<PGlite> | null = null;
  const mutex = new Mutex();
  const database = (): Promise<PGlite> => (db ??= open());

  class Pool extends EventEmitter {
    connect(cb: (err: Error | null, client?: PgliteClient, release?: () => void) => void): void {
      void mutex.acquire().then(async (unlock) => {
        let released = false;
        const release = (): void => {
          if (!released) {
            released = true;
            unlock();
          }
        };
        try {
          cb(null, new PgliteClient(await database()), release);
        } catch (err) {
          release();
          cb(err as Error);
        }
      });
    }

    end(cb?: (err: Error | null) => void): void {
      const closing = db ? db.then((d) => d.close()) : Promise.resolve();
      db = null;
      closing.then(
        () => cb?.(null),
        (err: Error) => cb?.(err),
      );
    }
  }

  return { Pool, defaults: {} };
}

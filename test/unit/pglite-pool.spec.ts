import 'reflect-metadata';
import { PGlite } from '@electric-sql/pglite';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, QueryFailedError } from 'typeorm';
import { pgliteDriver } from '../../src/database/pglite-pool';

interface PgLikeClient {
  query(sql: string, params?: unknown[]): Promise<PgLikeResult>;
  query(sql: string, params: unknown[], cb: (err: Error | null, r?: PgLikeResult) => void): void;
}
interface PgLikeResult {
  rows: Record<string, unknown>[];
  rowCount: number;
  command: string;
  fields: unknown[];
}
interface PgLikePool {
  connect(cb: (err: Error | null, client?: PgLikeClient, release?: () => void) => void): void;
  end(cb?: (err: Error | null) => void): void;
}

/** pg's callback-style connect as a promise: the client and its release. */
function connect(pool: PgLikePool): Promise<{ client: PgLikeClient; release: () => void }> {
  return new Promise((resolve, reject) =>
    pool.connect((err, client, release) =>
      err ? reject(err) : resolve({ client: client!, release: release! }),
    ),
  );
}

const rowsOf = async (ds: DataSource): Promise<string[]> =>
  ((await ds.query('SELECT name FROM items ORDER BY name')) as { name: string }[]).map(
    (r) => r.name,
  );

// Opening PGlite takes a second or two: one database serves the whole file, and the
// DataSource (which closes it on destroy) is torn down last.
let db: PGlite;
let ds: DataSource;

beforeAll(async () => {
  db = await PGlite.create();
});

afterAll(async () => {
  if (ds?.isInitialized) await ds.destroy();
  if (!db.closed) await db.close();
});

const openShared = (): Promise<PGlite> => Promise.resolve(db);

describe('pgliteDriver with TypeORM', () => {
  beforeAll(async () => {
    ds = new DataSource({
      type: 'postgres',
      driver: pgliteDriver(openShared),
      entities: [],
      synchronize: false,
      migrationsRun: false,
      installExtensions: false,
      logging: false,
    });
    await ds.initialize();
    await ds.query('CREATE TABLE items (name text PRIMARY KEY, n int NOT NULL DEFAULT 0)');
  });

  beforeEach(async () => {
    await ds.query('DELETE FROM items');
  });

  it('keeps concurrent transactions apart: a rollback never undoes another commit', async () => {
    const log: string[] = [];
    const a = ds.transaction(async (tx) => {
      log.push('A begin');
      await tx.query('INSERT INTO items (name) VALUES ($1)', ['a']);
      await sleep(50);
      log.push('A throw');
      throw new Error('A fails');
    });
    const b = ds.transaction(async (tx) => {
      log.push('B begin');
      await tx.query('INSERT INTO items (name) VALUES ($1)', ['b']);
      log.push('B commit');
    });
    await expect(a).rejects.toThrow('A fails');
    await expect(b).resolves.toBeUndefined();
    expect(await rowsOf(ds)).toEqual(['b']);
    // B only ran once A had released the connection.
    expect(log).toEqual(['A begin', 'A throw', 'B begin', 'B commit']);
  });

  it('serialises many concurrent transactions, each atomic', async () => {
    const runs = Array.from({ length: 8 }, (_, i) =>
      ds.transaction(async (tx) => {
        await tx.query('INSERT INTO items (name) VALUES ($1)', [`t${i}-1`]);
        await sleep(2);
        await tx.query('INSERT INTO items (name) VALUES ($1)', [`t${i}-2`]);
        if (i % 2 === 1) throw new Error(`odd ${i}`);
      }),
    );
    const results = await Promise.allSettled(runs);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
    ]);
    expect(await rowsOf(ds)).toEqual([
      't0-1',
      't0-2',
      't2-1',
      't2-2',
      't4-1',
      't4-2',
      't6-1',
      't6-2',
    ]);
  });

  it('never shows uncommitted rows to a query outside the transaction', async () => {
    let seenDuring: string[] | undefined;
    const tx = ds.transaction(async (manager) => {
      await manager.query('INSERT INTO items (name) VALUES ($1)', ['pending']);
      await sleep(30);
      throw new Error('rolled back');
    });
    await sleep(5);
    const outside = rowsOf(ds).then((rows) => (seenDuring = rows));
    await expect(tx).rejects.toThrow('rolled back');
    await outside;
    expect(seenDuring).toEqual([]);
  });

  it('releases the connection after a failing query inside a transaction', async () => {
    await ds.query('INSERT INTO items (name) VALUES ($1)', ['dup']);
    const failing = ds.transaction(async (tx) => {
      await tx.query('INSERT INTO items (name) VALUES ($1)', ['fresh']);
      await tx.query('INSERT INTO items (name) VALUES ($1)', ['dup']);
    });
    await expect(failing).rejects.toBeInstanceOf(QueryFailedError);
    await expect(failing).rejects.toMatchObject({ driverError: { code: '23505' } });
    // The next query gets the connection (a leak would hang here) and the tx left nothing.
    expect(await rowsOf(ds)).toEqual(['dup']);
    await expect(ds.transaction((tx) => tx.query('SELECT 1 AS one'))).resolves.toEqual([
      { one: 1 },
    ]);
  });

  it('releases the connection after a failing query outside a transaction', async () => {
    await expect(ds.query('SELEC nonsense')).rejects.toBeInstanceOf(QueryFailedError);
    await expect(ds.query('SELECT $1::int AS x', [7])).resolves.toEqual([{ x: 7 }]);
  });

  it('answers SELECT with rows, with and without parameters', async () => {
    await ds.query("INSERT INTO items (name, n) VALUES ('x', 1), ('y', 2)");
    expect(await ds.query('SELECT name, n FROM items ORDER BY name')).toEqual([
      { name: 'x', n: 1 },
      { name: 'y', n: 2 },
    ]);
    expect(await ds.query('SELECT name FROM items WHERE n > $1', [1])).toEqual([{ name: 'y' }]);
  });

  it('answers UPDATE and DELETE with [rows, rowCount], as with pg', async () => {
    await ds.query("INSERT INTO items (name) VALUES ('x'), ('y'), ('z')");
    expect(await ds.query('UPDATE items SET n = $1 WHERE name <> $2', [5, 'z'])).toEqual([[], 2]);
    expect(await ds.query("UPDATE items SET n = 9 WHERE name = 'none'")).toEqual([[], 0]);
    expect(await ds.query('DELETE FROM items WHERE n = $1 RETURNING name', [5])).toEqual([
      [{ name: 'x' }, { name: 'y' }],
      2,
    ]);
  });

  it('reports affected rows of UPDATE through a query runner', async () => {
    await ds.query("INSERT INTO items (name) VALUES ('x'), ('y')");
    const runner = ds.createQueryRunner();
    try {
      const result = await runner.query('UPDATE items SET n = n + 1', [], true);
      expect(result.affected).toBe(2);
    } finally {
      await runner.release();
    }
  });
});

describe('pgliteDriver Pool', () => {
  it('hands out one client at a time until it is released', async () => {
    const { Pool } = pgliteDriver(openShared);
    const pool = new Pool() as unknown as PgLikePool;
    const first = await connect(pool);
    let secondConnected = false;
    const second = connect(pool).then((c) => {
      secondConnected = true;
      return c;
    });
    await sleep(20);
    expect(secondConnected).toBe(false);
    first.release();
    first.release(); // a second release must not free a slot it does not hold
    const { release } = await second;
    expect(secondConnected).toBe(true);
    let thirdConnected = false;
    const third = connect(pool).then((c) => {
      thirdConnected = true;
      return c;
    });
    await sleep(20);
    expect(thirdConnected).toBe(false);
    release();
    (await third).release();
  });

  it('shapes results like pg: rows, rowCount, command, fields', async () => {
    const { Pool } = pgliteDriver(openShared);
    const pool = new Pool() as unknown as PgLikePool;
    const { client, release } = await connect(pool);
    try {
      await client.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
      const insert = await client.query('INSERT INTO t VALUES (1, $1), (2, $2), (3, $3)', [
        'a',
        'b',
        'c',
      ]);
      expect(insert).toMatchObject({ rows: [], rowCount: 3, command: 'INSERT' });

      const update = await client.query('UPDATE t SET v = $1 WHERE id < $2', ['z', 3]);
      expect(update).toMatchObject({ rows: [], rowCount: 2, command: 'UPDATE' });

      const select = await client.query('SELECT id, v FROM t ORDER BY id');
      expect(select.command).toBe('SELECT');
      expect(select.rows).toEqual([
        { id: 1, v: 'z' },
        { id: 2, v: 'z' },
        { id: 3, v: 'c' },
      ]);
      expect(select.fields).toHaveLength(2);

      const multi = await client.query("SELECT 1 AS a; UPDATE t SET v = 'q'");
      expect(multi).toMatchObject({ rowCount: 3, command: 'SELECT' });

      const empty = await client.query('  delete from t where id = $1', [99]);
      expect(empty).toMatchObject({ rows: [], rowCount: 0, command: 'DELETE' });
    } finally {
      release();
    }
  });

  it('gives SELECT a rowCount equal to its number of rows, as pg does', async () => {
    const { Pool } = pgliteDriver(openShared);
    const pool = new Pool() as unknown as PgLikePool;
    const { client, release } = await connect(pool);
    try {
      const select = await client.query('SELECT * FROM generate_series(1, $1::int) AS s', [4]);
      expect(select.rows).toHaveLength(4);
      expect(select.rowCount).toBe(4);
    } finally {
      release();
    }
  });

  it('supports the callback style, for results and errors', async () => {
    const { Pool } = pgliteDriver(openShared);
    const pool = new Pool() as unknown as PgLikePool;
    const { client, release } = await connect(pool);
    try {
      const ok = await new Promise<PgLikeResult>((resolve, reject) =>
        client.query('SELECT $1::text AS v', ['hi'], (err, r) => (err ? reject(err) : resolve(r!))),
      );
      expect(ok.rows).toEqual([{ v: 'hi' }]);
      const failure = await new Promise<Error | null>((resolve) =>
        client.query('SELECT * FROM missing_table WHERE a = $1', [1], (err) => resolve(err)),
      );
      expect(failure).toBeInstanceOf(Error);
      expect(failure!.message).toMatch(/missing_table/);
    } finally {
      release();
    }
  });

  it('passes an open failure to connect and frees the slot', async () => {
    const { Pool } = pgliteDriver(() => Promise.reject(new Error('cannot open database')));
    const pool = new Pool() as unknown as PgLikePool;
    await expect(connect(pool)).rejects.toThrow('cannot open database');
    // A leaked slot would make this second connect wait forever.
    await expect(connect(pool)).rejects.toThrow('cannot open database');
  });

  it('opens the database once and shares it between clients', async () => {
    let opened = 0;
    const { Pool } = pgliteDriver(() => {
      opened++;
      return openShared();
    });
    const pool = new Pool() as unknown as PgLikePool;
    const a = await connect(pool);
    await a.client.query('CREATE TABLE shared_once (x int)');
    a.release();
    const b = await connect(pool);
    await expect(
      b.client.query('SELECT count(*)::int AS c FROM shared_once'),
    ).resolves.toMatchObject({
      rows: [{ c: 0 }],
    });
    b.release();
    expect(opened).toBe(1);
  });
});

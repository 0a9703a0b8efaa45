import type { EntityManager } from 'typeorm';

export type Queryable = Pick<EntityManager, 'query'>;

/**
 * Rows of a raw statement. TypeORM answers UPDATE/DELETE with [rows, rowCount] and
 * everything else with rows; callers here always want the rows.
 */
export async function queryRows<T>(
  db: Queryable,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const result: unknown = await db.query(sql, params);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}

export async function queryOne<T>(
  db: Queryable,
  sql: string,
  params: unknown[] = [],
): Promise<T | null> {
  const rows = await queryRows<T>(db, sql, params);
  return rows[0] ?? null;
}

/** PostgreSQL's unique_violation, optionally on one named constraint/index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as {
    code?: string;
    constraint?: string;
    driverError?: { code?: string; constraint?: string };
    message?: string;
  };
  const code = e.code ?? e.driverError?.code;
  if (code !== '23505') return false;
  if (!constraint) return true;
  const name = e.constraint ?? e.driverError?.constraint;
  return name === constraint || String(e.message).includes(constraint);
}

import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { PGlite } from '@electric-sql/pglite';
import { Env } from '../config/env';
import { ENTITIES } from './entities';
import { MIGRATIONS } from '../../migrations';
import { SnakeNamingStrategy } from './naming-strategy';
import { pgliteDriver } from './pglite-pool';

/** `memory://` keeps the embedded database in memory only (tests, demos). */
export function embeddedDataDir(env: Env): string | undefined {
  if (env.WARMPOOL_DATA_DIR === 'memory://') return undefined;
  const dir = resolve(env.WARMPOOL_DATA_DIR, 'pgdata');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * One description of the database for the app, the TypeORM CLI and the tests:
 * PostgreSQL when DATABASE_URL is set, else embedded PGlite with the same migrations.
 */
export function databaseOptions(env: Env): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    namingStrategy: new SnakeNamingStrategy(),
    // ids are generated in the application; no extension is needed.
    installExtensions: false,
    logging: false,
  };
  if (env.DATABASE_URL) {
    return {
      ...common,
      url: env.DATABASE_URL,
      poolSize: 20,
      connectTimeoutMS: 5000,
      applicationName: 'warmpool',
    };
  }
  const dataDir = embeddedDataDir(env);
  return {
    ...common,
    driver: pgliteDriver(() => PGlite.create(dataDir ? { dataDir } : {})),
  };
}

export function isEmbedded(env: Env): boolean {
  return !env.DATABASE_URL;
}

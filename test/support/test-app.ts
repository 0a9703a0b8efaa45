import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createApp } from '../../src/app.factory';
import { loadEnv } from '../../src/config/env';
import { ReconcilerService } from '../../src/reconciler/reconciler.service';
import { describeWith, TEST_DATABASE_URL, TEST_REDIS_URL } from './services';

export type Backend = 'embedded' | 'postgres';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestApp {
  app: NestFastifyApplication;
  http: TestAgent;
  backend: Backend;
  databaseUrl?: string;
  admin: Record<string, string>;
  /** One reconcile pass, waiting for the driver work it started. */
  reconcile(): Promise<void>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Extra environment (strings, as a shell would give them). */
  env?: Record<string, string>;
  /** Reuse a database another TestApp created (a second replica). */
  databaseUrl?: string;
}

/** A fresh, empty PostgreSQL database for one test file (or replica group). */
export async function createScratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `wp_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * The real application over HTTP: embedded defaults (PGlite, in-process coordination) or
 * real PostgreSQL + Redis. The reconciler's timer is off: tests drive passes explicitly.
 */
export async function startTestApp(
  backend: Backend,
  options: TestAppOptions = {},
): Promise<TestApp> {
  let databaseUrl = options.databaseUrl;
  let drop: (() => Promise<void>) | undefined;
  if (backend === 'postgres' && !databaseUrl) {
    const scratch = await createScratchDatabase();
    databaseUrl = scratch.url;
    drop = scratch.drop;
  }
  const env = loadEnv({
    WARMPOOL_ADMIN_TOKEN: ADMIN_TOKEN,
    WARMPOOL_DATA_DIR: 'memory://',
    WARMPOOL_CONFIG: '/nonexistent/warmpool.yaml',
    WARMPOOL_RECONCILER_ENABLED: 'false',
    WARMPOOL_WAIT_POLL_MS: '100',
    LOG_LEVEL: 'silent',
    ...(backend === 'postgres' ? { DATABASE_URL: databaseUrl, REDIS_URL: TEST_REDIS_URL } : {}),
    ...options.env,
  });
  const app = await createApp(env);
  // A listening server: supertest on a bare server would listen anew for every request,
  // which breaks under the concurrent requests these tests make.
  await app.listen(0, '127.0.0.1');
  const reconciler = app.get(ReconcilerService);
  return {
    app,
    http: request(await app.getUrl()),
    backend,
    databaseUrl,
    admin: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    reconcile: async () => {
      await reconciler.runPass({ waitForJobs: true });
    },
    close: async () => {
      await app.close();
      await drop?.();
    },
  };
}

/**
 * The same suite on both backends: the embedded defaults always, and real PostgreSQL +
 * Redis where they run (skipped with a reason locally, a failure in CI).
 */
export function forEachBackend(title: string, body: (backend: Backend) => void): void {
  describe(`${title} [embedded]`, () => body('embedded'));
  describeWith(['postgres', 'redis'], `${title} [postgres+redis]`, () => body('postgres'));
}

export interface SimPoolOptions {
  pool?: string;
  minReady?: number;
  maxReady?: number;
  maxTotal?: number;
  recycle?: 'destroy' | 'reset';
  hostOptions?: Record<string, unknown>;
  poolBody?: Record<string, unknown>;
  hostBody?: Record<string, unknown>;
}

/** A sim host (no latency unless asked), a sim template and a pool, filled to minReady. */
export async function seedSimPool(t: TestApp, options: SimPoolOptions = {}): Promise<void> {
  const pool = options.pool ?? 'p1';
  await t.http
    .put('/v1/admin/hosts/sim1')
    .set(t.admin)
    .send({
      driver: 'sim',
      maxContainers: 1000,
      maxConcurrentProvisions: 256,
      options: { cloneMs: 0, startMs: 0, resetMs: 0, destroyMs: 0, ...options.hostOptions },
      ...options.hostBody,
    })
    .expect((r) => expectStatus(r, [200, 201]));
  await t.http
    .put('/v1/admin/templates/tpl')
    .set(t.admin)
    .send({ driver: 'sim' })
    .expect((r) => expectStatus(r, [200, 201]));
  await t.reconcile();
  await t.http
    .put(`/v1/admin/pools/${pool}`)
    .set(t.admin)
    .send({
      template: 'tpl',
      minReady: options.minReady ?? 2,
      maxReady: options.maxReady ?? Math.max(50, options.minReady ?? 2),
      maxTotal: options.maxTotal ?? Math.max(100, options.maxReady ?? 0, options.minReady ?? 2),
      recycle: options.recycle ?? 'destroy',
      ...options.poolBody,
    })
    .expect((r) => expectStatus(r, [200, 201]));
  await settle(t, pool);
}

/**
 * Reconcile until the pool is steady: nothing provisioning, recycling or retiring, at
 * least the target ready, and the same status two passes in a row (bounded).
 */
export async function settle(t: TestApp, pool = 'p1', passes = 30): Promise<PoolStatus> {
  let status: PoolStatus | undefined;
  let previous = '';
  for (let i = 0; i < passes; i++) {
    await t.reconcile();
    status = await poolStatus(t, pool);
    const steady =
      status.provisioning === 0 &&
      status.recycling === 0 &&
      status.retiring === 0 &&
      status.ready >= status.target;
    const now = JSON.stringify(status);
    if (steady && now === previous) return status;
    previous = now;
  }
  throw new Error(`pool ${pool} did not settle: ${JSON.stringify(status)}`);
}

export interface PoolStatus {
  ready: number;
  provisioning: number;
  leased: number;
  recycling: number;
  retiring: number;
  failed: number;
  target: number;
  waiting: number;
}

export async function poolStatus(t: TestApp, pool = 'p1'): Promise<PoolStatus> {
  const res = await t.http.get(`/v1/admin/pools/${pool}`).set(t.admin).expect(200);
  return res.body.status as PoolStatus;
}

export async function createTenant(
  t: TestApp,
  name: string,
  max = 1000,
): Promise<Record<string, string>> {
  const res = await t.http
    .post('/v1/admin/tenants')
    .set(t.admin)
    .send({ name, maxConcurrentContainers: max })
    .expect(201);
  return { Authorization: `Bearer ${res.body.token as string}` };
}

export function expectStatus(res: { status: number; body: unknown }, allowed: number[]): void {
  if (!allowed.includes(res.status)) {
    throw new Error(
      `expected status ${allowed.join('/')}, got ${res.status}: ${JSON.stringify(res.body)}`,
    );
  }
}

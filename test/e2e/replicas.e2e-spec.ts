import { setTimeout as sleep } from 'node:timers/promises';
import { describeWith } from '../support/services';
import {
  createScratchDatabase,
  poolStatus,
  seedSimPool,
  startTestApp,
  TestApp,
} from '../support/test-app';

describeWith(['postgres', 'redis'], 'several replicas on one PostgreSQL and one Redis', () => {
  let scratch: { url: string; drop: () => Promise<void> };
  let a: TestApp;
  let b: TestApp;

  beforeEach(async () => {
    scratch = await createScratchDatabase();
    // Waiters poll only every 10 s here: a fast answer can only come from a Redis wake-up.
    const env = { WARMPOOL_WAIT_POLL_MS: '10000' };
    a = await startTestApp('postgres', { databaseUrl: scratch.url, env });
    b = await startTestApp('postgres', { databaseUrl: scratch.url, env });
  });
  afterEach(async () => {
    await a?.close();
    await b?.close();
    await scratch.drop();
  });

  it('exactly one replica leads the reconciler; when it goes, another takes over', async () => {
    const first = (await a.http.post('/v1/admin/reconcile').set(a.admin).expect(200)).body;
    const second = (await b.http.post('/v1/admin/reconcile').set(b.admin).expect(200)).body;
    expect([first.leader, second.leader]).toEqual([true, false]);
    expect((await b.http.get('/metrics')).text).toMatch(/^warmpool_leader 0$/m);
    await a.close();
    const after = (await b.http.post('/v1/admin/reconcile').set(b.admin).expect(200)).body;
    expect(after.leader).toBe(true);
    expect((await b.http.get('/metrics')).text).toMatch(/^warmpool_leader 1$/m);
  });

  it('a request waiting on one replica is woken through Redis when another makes a container ready', async () => {
    await seedSimPool(b, { minReady: 0 });
    const started = Date.now();
    const waiting = a.http
      .post('/v1/leases')
      .set(a.admin)
      .send({ pool: 'p1', waitSeconds: 30 })
      .then((r) => r);
    for (let i = 0; i < 100 && (await poolStatus(b)).waiting === 0; i++) await sleep(20);
    expect((await poolStatus(b)).waiting).toBe(1);
    // The leader (b) provisions for the waiter, hands the container over and publishes.
    await b.reconcile();
    const res = await waiting;
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(res.body.waitedMs).toBeLessThan(8000);
  });
});

describeWith(['postgres'], 'Redis unreachable', () => {
  it('/readyz says redis down, and leasing goes on with waiters polling', async () => {
    const t = await startTestApp('postgres', {
      env: { REDIS_URL: 'redis://127.0.0.1:1', WARMPOOL_WAIT_POLL_MS: '100' },
    });
    try {
      const ready = await t.http.get('/readyz').expect(200);
      expect(ready.body).toEqual({ status: 'ok', database: 'up', redis: 'down' });
      await seedSimPool(t, { minReady: 1 });
      const lease = await t.http.post('/v1/leases').set(t.admin).send({ pool: 'p1' }).expect(201);
      expect(lease.body.containers).toHaveLength(1);
      // Nothing ready: the waiter is served by its poll after the container is made.
      const waiting = t.http
        .post('/v1/leases')
        .set(t.admin)
        .send({ pool: 'p1', waitSeconds: 10 })
        .then((r) => r);
      for (let i = 0; i < 100 && (await poolStatus(t)).waiting === 0; i++) await sleep(20);
      await t.reconcile();
      expect((await waiting).status).toBe(201);
    } finally {
      await t.close();
    }
  });
});

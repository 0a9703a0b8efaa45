import { setTimeout as sleep } from 'node:timers/promises';
import { assertInvariants } from '../support/invariants';
import {
  createTenant,
  forEachBackend,
  poolStatus,
  seedSimPool,
  settle,
  startTestApp,
  TestApp,
} from '../support/test-app';

interface LeaseBody {
  id: string;
  containers: { id: string }[];
}

forEachBackend('concurrency', (backend) => {
  let t: TestApp;
  let tenants: Record<string, string>[];

  beforeAll(async () => {
    t = await startTestApp(backend);
    tenants = [];
    for (const name of ['t1', 't2', 't3', 't4']) tenants.push(await createTenant(t, name, 1000));
  });
  afterAll(() => t.close());

  it('200 simultaneous requests against 50 ready: exactly 50 leases, 150 pool_exhausted, no container twice', async () => {
    await seedSimPool(t, { pool: 'race', minReady: 50, maxReady: 50, maxTotal: 50 });
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        t.http
          .post('/v1/leases')
          .set(tenants[i % 4])
          .send({ pool: 'race', waitSeconds: 0 }),
      ),
    );
    const ok = responses.filter((r) => r.status === 201);
    const exhausted = responses.filter((r) => r.status === 503);
    expect(ok).toHaveLength(50);
    expect(exhausted).toHaveLength(150);
    for (const r of exhausted) expect(r.body.code).toBe('pool_exhausted');
    const containers = ok.flatMap((r) => (r.body as LeaseBody).containers.map((c) => c.id));
    expect(new Set(containers).size).toBe(50);
    expect(await poolStatus(t, 'race')).toMatchObject({ ready: 0, leased: 50 });
    await assertInvariants(t);
    for (const r of ok) await t.http.delete(`/v1/leases/${r.body.id}`).set(t.admin).expect(200);
  });

  it("concurrent requests never overdraw a tenant's quota", async () => {
    await seedSimPool(t, { pool: 'quota', minReady: 20, maxReady: 20, maxTotal: 20 });
    const small = await createTenant(t, 'small', 5);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.http.post('/v1/leases').set(small).send({ pool: 'quota', waitSeconds: 0 }),
      ),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(5);
    const refused = responses.filter((r) => r.status !== 201);
    expect(refused.map((r) => r.body.code)).toEqual(Array(15).fill('quota_exceeded'));
    expect(await poolStatus(t, 'quota')).toMatchObject({ leased: 5, ready: 15 });
    await assertInvariants(t);
    for (const r of responses.filter((x) => x.status === 201)) {
      await t.http.delete(`/v1/leases/${r.body.id}`).set(small).expect(200);
    }
  });

  it('concurrent count: 3 requests never leave a partial lease', async () => {
    await seedSimPool(t, { pool: 'triples', minReady: 10, maxReady: 10, maxTotal: 10 });
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t.http
          .post('/v1/leases')
          .set(tenants[i % 4])
          .send({ pool: 'triples', count: 3, waitSeconds: 0 }),
      ),
    );
    const ok = responses.filter((r) => r.status === 201);
    expect(ok).toHaveLength(3);
    expect(responses.filter((r) => r.status === 503)).toHaveLength(5);
    for (const r of ok) expect((r.body as LeaseBody).containers).toHaveLength(3);
    expect(await poolStatus(t, 'triples')).toMatchObject({ ready: 1, leased: 9 });
    await assertInvariants(t);
    for (const r of ok) await t.http.delete(`/v1/leases/${r.body.id}`).set(t.admin).expect(200);
  });

  it('a released container is never leased again before it is recycled', async () => {
    // No reconcile pass runs until the test asks, so released containers stay recycling.
    await seedSimPool(t, {
      pool: 'reuse',
      minReady: 3,
      maxReady: 3,
      maxTotal: 3,
      recycle: 'reset',
    });
    const first = (
      await t.http.post('/v1/leases').set(tenants[0]).send({ pool: 'reuse', count: 3 }).expect(201)
    ).body as LeaseBody;
    await t.http.delete(`/v1/leases/${first.id}`).set(tenants[0]).expect(200);
    // Released but not yet reset: nothing is ready, so nothing can be leased.
    const during = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.http.post('/v1/leases').set(tenants[1]).send({ pool: 'reuse', waitSeconds: 0 }),
      ),
    );
    expect(during.map((r) => r.status)).toEqual(Array(10).fill(503));
    expect(await poolStatus(t, 'reuse')).toMatchObject({ ready: 0, recycling: 3, leased: 0 });

    await settle(t, 'reuse');
    const again = (
      await t.http.post('/v1/leases').set(tenants[1]).send({ pool: 'reuse', count: 3 }).expect(201)
    ).body as LeaseBody;
    // With recycle: reset the same containers come back, but only after their reset.
    expect(new Set(again.containers.map((c) => c.id))).toEqual(
      new Set(first.containers.map((c) => c.id)),
    );
    await assertInvariants(t);
    await t.http.delete(`/v1/leases/${again.id}`).set(tenants[1]).expect(200);
  });

  it('with recycle: destroy a released container never comes back', async () => {
    await seedSimPool(t, { pool: 'fresh', minReady: 2, maxReady: 2, maxTotal: 4 });
    const seen = new Set<string>();
    for (let round = 0; round < 5; round++) {
      const lease = (
        await t.http
          .post('/v1/leases')
          .set(tenants[2])
          .send({ pool: 'fresh', count: 2 })
          .expect(201)
      ).body as LeaseBody;
      for (const c of lease.containers) {
        expect(seen.has(c.id)).toBe(false);
        seen.add(c.id);
      }
      await t.http.delete(`/v1/leases/${lease.id}`).set(tenants[2]).expect(200);
      await settle(t, 'fresh');
    }
    await assertInvariants(t);
  });

  it('ten requests waiting on an empty pool are served in arrival order (higher priority first)', async () => {
    // maxTotal 1: one container at a time, so the order of service is observable.
    await seedSimPool(t, { pool: 'queue', minReady: 0, maxReady: 1, maxTotal: 1 });
    const served: number[] = [];
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      const priority = i === 7 ? 9 : 5;
      pending.push(
        t.http
          .post('/v1/leases')
          .set(tenants[i % 4])
          .send({ pool: 'queue', waitSeconds: 60, priority, labels: { n: String(i) } })
          .then(async (r) => {
            expect(r.status).toBe(201);
            served.push(i);
            await t.http.delete(`/v1/leases/${r.body.id}`).set(t.admin).expect(200);
          }),
      );
      // Distinct arrival instants, so arrival order is well defined.
      await sleep(30);
    }
    await waitFor(async () => (await poolStatus(t, 'queue')).waiting === 10);
    while (served.length < 10) {
      await t.reconcile();
      await sleep(10);
    }
    await Promise.all(pending);
    expect(served).toEqual([7, 0, 1, 2, 3, 4, 5, 6, 8, 9]);
    await assertInvariants(t);
  });

  it('a waiter that times out leaves nothing leased', async () => {
    await seedSimPool(t, { pool: 'never', minReady: 0, maxReady: 0, maxTotal: 0 });
    const started = Date.now();
    const res = await t.http
      .post('/v1/leases')
      .set(tenants[3])
      .send({ pool: 'never', waitSeconds: 1 })
      .expect(503);
    expect(res.body.code).toBe('pool_exhausted');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const leases = await t.http.get('/v1/leases?pool=never').set(tenants[3]).expect(200);
    expect(leases.body.items).toEqual([]);
    expect(await poolStatus(t, 'never')).toMatchObject({ leased: 0, waiting: 0 });
  });

  it('waiters racing their deadlines against containers becoming ready: every lease reaches a client, none is lost', async () => {
    // Containers take ~300 ms to start, so hand-offs land right around the 1 s deadlines.
    await seedSimPool(t, { pool: 'edge', minReady: 0, maxReady: 0, maxTotal: 12, hostOptions: {} });
    await t.http
      .put('/v1/admin/hosts/sim1')
      .set(t.admin)
      .send({
        driver: 'sim',
        maxContainers: 1000,
        maxConcurrentProvisions: 256,
        options: { cloneMs: 0, startMs: 300, resetMs: 0, destroyMs: 0 },
      });
    let running = true;
    const driver = (async () => {
      while (running) {
        await t.reconcile();
        await sleep(40);
      }
    })();
    const responses = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        await sleep(i * 25);
        return t.http
          .post('/v1/leases')
          .set(tenants[i % 4])
          .send({ pool: 'edge', waitSeconds: 1 });
      }),
    );
    running = false;
    await driver;
    const granted = responses.filter((r) => r.status === 201).map((r) => r.body.id as string);
    expect(responses.every((r) => r.status === 201 || r.status === 503)).toBe(true);
    expect(granted.length).toBeGreaterThan(0);
    // Every lease in the database is one a client received, and vice versa.
    const inDb = await t.http.get('/v1/leases?pool=edge&limit=500').set(t.admin).expect(200);
    expect(new Set(inDb.body.items.map((l: { id: string }) => l.id))).toEqual(new Set(granted));
    expect((await poolStatus(t, 'edge')).leased).toBe(granted.length);
    await assertInvariants(t);
    // Restore the fast host for anything after this.
    await t.http
      .put('/v1/admin/hosts/sim1')
      .set(t.admin)
      .send({
        driver: 'sim',
        maxContainers: 1000,
        maxConcurrentProvisions: 256,
        options: { cloneMs: 0, startMs: 0, resetMs: 0, destroyMs: 0 },
      });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error('condition not met in time');
}

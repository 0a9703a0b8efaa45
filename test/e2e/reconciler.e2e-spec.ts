import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { SimDriver } from '../../src/drivers/sim/sim.driver';
import { HostsService } from '../../src/hosts/hosts.service';
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

interface ContainerView {
  id: string;
  name: string;
  state: string;
  host: string;
  templateVersion: number;
  ip: string | null;
}

async function containers(t: TestApp, query: string): Promise<ContainerView[]> {
  return (await t.http.get(`/v1/admin/containers?limit=500&${query}`).set(t.admin).expect(200)).body
    .items;
}

forEachBackend('reconciler', (backend) => {
  let t: TestApp;

  beforeEach(async () => {
    t = await startTestApp(backend, {
      env: { WARMPOOL_ORPHAN_SCAN_INTERVAL_MS: '0', WARMPOOL_STUCK_TIMEOUT_SECONDS: '5' },
    });
  });
  afterEach(() => t.close());

  it('fills a pool to minReady, never past maxTotal with leased containers counted', async () => {
    await seedSimPool(t, { minReady: 3, maxReady: 4, maxTotal: 4 });
    expect(await poolStatus(t)).toMatchObject({ ready: 3, target: 3 });
    const lease = (
      await t.http.post('/v1/leases').set(t.admin).send({ pool: 'p1', count: 3 }).expect(201)
    ).body;
    // maxTotal 4 − leased 3 leaves room for one ready container only.
    expect(await settle(t)).toMatchObject({ ready: 1, leased: 3, target: 1 });
    await t.http.delete(`/v1/leases/${lease.id}`).set(t.admin).expect(200);
    expect(await settle(t)).toMatchObject({ ready: 3, leased: 0, target: 3 });
    await assertInvariants(t);
  });

  it('expires leases past their TTL and recycles their containers, giving the quota back', async () => {
    await seedSimPool(t, { minReady: 2 });
    const tenant = await createTenant(t, 'ttl', 2);
    const lease = (
      await t.http
        .post('/v1/leases')
        .set(tenant)
        .send({ pool: 'p1', count: 2, ttlSeconds: 1 })
        .expect(201)
    ).body;
    await t.reconcile();
    expect((await t.http.get(`/v1/leases/${lease.id}`).set(tenant)).body.state).toBe('active');
    await sleep(1100);
    await t.reconcile();
    const expired = (await t.http.get(`/v1/leases/${lease.id}`).set(tenant).expect(200)).body;
    expect(expired.state).toBe('expired');
    await settle(t);
    for (const c of expired.containers) {
      expect((await t.http.get(`/v1/admin/containers/${c.id}`).set(t.admin)).body.state).toBe(
        'destroyed',
      );
    }
    await t.http.post('/v1/leases').set(tenant).send({ pool: 'p1', count: 2 }).expect(201);
    await assertInvariants(t);
  });

  it('scales down only after scaleDownDelaySeconds, oldest first', async () => {
    // One container per pass, so their ready times are distinct and ordered.
    await seedSimPool(t, { minReady: 1, poolBody: { scaleDownDelaySeconds: 1 } });
    for (const minReady of [2, 3, 4]) {
      await t.http.patch('/v1/admin/pools/p1').set(t.admin).send({ minReady }).expect(200);
      await settle(t);
    }
    const before = await containers(t, 'pool=p1&state=ready');
    await t.http.patch('/v1/admin/pools/p1').set(t.admin).send({ minReady: 1 }).expect(200);
    await t.reconcile();
    expect(await poolStatus(t)).toMatchObject({ ready: 4, target: 1 });
    await sleep(1100);
    expect(await settle(t)).toMatchObject({ ready: 1, target: 1 });
    const after = await containers(t, 'pool=p1&state=ready');
    // The newest survives (the list is newest first), the three oldest were retired.
    expect(after.map((c) => c.id)).toEqual([before[0].id]);
  });

  it('excess that disappears before the delay cancels the scale-down (hysteresis)', async () => {
    await seedSimPool(t, { minReady: 3, poolBody: { scaleDownDelaySeconds: 1 } });
    await t.http.patch('/v1/admin/pools/p1').set(t.admin).send({ minReady: 1 }).expect(200);
    await t.reconcile();
    await t.http.patch('/v1/admin/pools/p1').set(t.admin).send({ minReady: 3 }).expect(200);
    await t.reconcile();
    await sleep(1100);
    await t.http.patch('/v1/admin/pools/p1').set(t.admin).send({ minReady: 2 }).expect(200);
    await t.reconcile();
    // The excess of one started only now: nothing is retired yet.
    expect(await poolStatus(t)).toMatchObject({ ready: 3, retiring: 0 });
  });

  it('replaces ready containers idle longer than maxIdleSeconds', async () => {
    await seedSimPool(t, { minReady: 2, poolBody: { maxIdleSeconds: 1 } });
    const before = (await containers(t, 'pool=p1&state=ready')).map((c) => c.id);
    await sleep(1100);
    await settle(t);
    const after = (await containers(t, 'pool=p1&state=ready')).map((c) => c.id);
    expect(after).toHaveLength(2);
    expect(after.filter((id) => before.includes(id))).toEqual([]);
  });

  it('follows the schedule window over minReady and reports why', async () => {
    const hour = new Date().getUTCHours();
    await seedSimPool(t, {
      minReady: 1,
      poolBody: {
        scaleDownDelaySeconds: 0,
        schedules: [{ cron: `0 ${hour} * * *`, durationMinutes: 60, timezone: 'UTC', minReady: 4 }],
      },
    });
    expect(await poolStatus(t)).toMatchObject({ ready: 4, target: 4, targetReason: 'schedule' });
    const later = (hour + 2) % 24;
    await t.http
      .patch('/v1/admin/pools/p1')
      .set(t.admin)
      .send({ schedules: [{ cron: `0 ${later} * * *`, durationMinutes: 60, minReady: 4 }] })
      .expect(200);
    expect(await settle(t)).toMatchObject({ ready: 1, target: 1, targetReason: 'minReady' });
  });

  it('an empty pool below maxTotal provisions for its waiters at once', async () => {
    await seedSimPool(t, { minReady: 0, maxReady: 2, maxTotal: 5 });
    const waiting = t.http
      .post('/v1/leases')
      .set(t.admin)
      .send({ pool: 'p1', count: 3, waitSeconds: 20 })
      // supertest sends on then(): start the request now, not when it is awaited.
      .then((r) => r);
    for (let i = 0; i < 50 && (await poolStatus(t)).waiting === 0; i++) await sleep(20);
    expect(await poolStatus(t)).toMatchObject({ waiting: 3, target: 0 });
    const report = (await t.http.post('/v1/admin/reconcile?wait=true').set(t.admin).expect(200))
      .body;
    expect(report.provisioning).toEqual({ p1: 3 });
    const res = await waiting;
    expect(res.status).toBe(201);
    expect(res.body.containers).toHaveLength(3);
    expect(res.body.waitedMs).toBeGreaterThan(0);
    expect(await settle(t)).toMatchObject({ leased: 3, ready: 0, waiting: 0 });
  });

  it('spreads containers over hosts and keeps to each host’s provisioning limit', async () => {
    await seedSimPool(t, { minReady: 0 });
    await t.http
      .put('/v1/admin/hosts/sim2')
      .set(t.admin)
      .send({
        driver: 'sim',
        maxConcurrentProvisions: 256,
        options: { cloneMs: 0, startMs: 0, resetMs: 0, destroyMs: 0 },
      })
      .expect(201);
    await t.reconcile();
    await t.http.patch('/v1/admin/pools/p1').set(t.admin).send({ minReady: 6 }).expect(200);
    await settle(t);
    const byHost = (await containers(t, 'pool=p1&state=ready')).reduce<Record<string, number>>(
      (acc, c) => ({ ...acc, [c.host]: (acc[c.host] ?? 0) + 1 }),
      {},
    );
    expect(byHost).toEqual({ sim1: 3, sim2: 3 });

    await t.http
      .patch('/v1/admin/hosts/sim1')
      .set(t.admin)
      .send({ maxConcurrentProvisions: 2, options: { startMs: 400 } })
      .expect(200);
    await t.http.patch('/v1/admin/hosts/sim2').set(t.admin).send({ state: 'disabled' }).expect(200);
    await t.http.patch('/v1/admin/pools/p1').set(t.admin).send({ minReady: 12 }).expect(200);
    await t.app.get(DataSource).query('SELECT 1');
    const report = (await t.http.post('/v1/admin/reconcile').set(t.admin).expect(200)).body;
    expect(report.provisioning.p1).toBe(2);
    expect((await poolStatus(t)).provisioning).toBe(2);
  });

  it('a draining host loses its ready containers to the other hosts; leased ones finish there', async () => {
    await seedSimPool(t, { minReady: 0 });
    await t.http
      .put('/v1/admin/hosts/sim2')
      .set(t.admin)
      .send({
        driver: 'sim',
        maxConcurrentProvisions: 256,
        options: { cloneMs: 0, startMs: 0, destroyMs: 0 },
      })
      .expect(201);
    await t.reconcile();
    await t.http.patch('/v1/admin/pools/p1').set(t.admin).send({ minReady: 4 }).expect(200);
    await settle(t);
    const lease = (
      await t.http.post('/v1/leases').set(t.admin).send({ pool: 'p1', count: 4 }).expect(201)
    ).body;
    const onSim1 = lease.containers.filter((c: { host: string }) => c.host === 'sim1');
    await settle(t);
    await t.http.patch('/v1/admin/hosts/sim1').set(t.admin).send({ state: 'draining' }).expect(200);
    await settle(t);
    const ready = await containers(t, 'pool=p1&state=ready');
    expect(ready).toHaveLength(4);
    expect(ready.every((c) => c.host === 'sim2')).toBe(true);
    for (const c of onSim1) {
      expect((await t.http.get(`/v1/admin/containers/${c.id}`).set(t.admin)).body.state).toBe(
        'leased',
      );
    }
  });

  it('a host that keeps failing is taken out (circuit breaker); the launches are retried elsewhere', async () => {
    await seedSimPool(t, { minReady: 0 });
    await t.http
      .patch('/v1/admin/hosts/sim1')
      .set(t.admin)
      .send({ options: { failureRate: 1 } })
      .expect(200);
    await t.http
      .put('/v1/admin/hosts/sim2')
      .set(t.admin)
      .send({ driver: 'sim', maxConcurrentProvisions: 256, options: { cloneMs: 0, startMs: 0 } })
      .expect(201);
    await t.reconcile();
    await t.http.patch('/v1/admin/hosts/sim2').set(t.admin).send({ state: 'disabled' }).expect(200);
    await t.http.patch('/v1/admin/pools/p1').set(t.admin).send({ minReady: 2 }).expect(200);
    await t.reconcile();
    const sim1 = (await t.http.get('/v1/admin/hosts/sim1').set(t.admin).expect(200)).body;
    expect(sim1.health).toBe('down');
    expect(sim1.lastError).toContain('simulated');
    const failed = await containers(t, 'pool=p1');
    expect(failed.length).toBe(2);
    expect(failed.every((c) => c.state === 'failed' || c.state === 'destroyed')).toBe(true);
    // While it is down nothing more is placed there, even after the pool's retry backoff.
    await sleep(2100);
    const report = (await t.http.post('/v1/admin/reconcile?wait=true').set(t.admin).expect(200))
      .body;
    expect(report.provisioning).toEqual({});
    // Another host comes in: the retried launches go there and the pool fills.
    await t.http.patch('/v1/admin/hosts/sim2').set(t.admin).send({ state: 'active' }).expect(200);
    expect(await settle(t)).toMatchObject({ ready: 2 });
    expect((await containers(t, 'pool=p1&state=ready')).every((c) => c.host === 'sim2')).toBe(true);
    // An operator who fixed sim1 re-enables it; its breaker closes.
    await t.http
      .patch('/v1/admin/hosts/sim1')
      .set(t.admin)
      .send({ state: 'active', options: { failureRate: 0 } })
      .expect(200);
    expect((await t.http.get('/v1/admin/hosts/sim1').set(t.admin)).body.health).toBe('up');
    await settle(t);
    await assertInvariants(t);
  });

  it('fails containers stuck in a transitional state and cleans them up', async () => {
    await seedSimPool(t, { minReady: 1 });
    const [c] = await containers(t, 'pool=p1&state=ready');
    const db = t.app.get(DataSource);
    // A worker that died mid-recycle: the row says recycling, nobody works on it.
    await db.query(
      `UPDATE containers SET state = 'recycling', state_changed_at = now() - interval '1 hour' WHERE id = $1`,
      [c.id],
    );
    await t.reconcile();
    await settle(t);
    const after = (await t.http.get(`/v1/admin/containers/${c.id}`).set(t.admin)).body;
    expect(after.state).toBe('destroyed');
    expect(after.error).toContain('stuck');
    expect((await poolStatus(t)).ready).toBe(1);
  });

  it('destroys orphans after two sightings and fails containers the host lost', async () => {
    await seedSimPool(t, { minReady: 2 });
    const sim = t.app.get(SimDriver);
    const hosts = t.app.get(HostsService);
    const target = hosts.target(await hosts.require('sim1'));
    const golden = (await t.http.get('/v1/admin/templates/tpl').set(t.admin)).body.builds[0];
    expect(golden.state).toBe('ready');
    await sim.clone(target, {
      name: 'wp-0rphan00',
      golden: 'wpt-tpl-v1',
      resources: { network: 'isolated' },
      ip: null,
    });
    await t.reconcile();
    expect(await sim.list(target)).toContain('wp-0rphan00');
    await t.reconcile();
    expect(await sim.list(target)).not.toContain('wp-0rphan00');

    const lease = (await t.http.post('/v1/leases').set(t.admin).send({ pool: 'p1' }).expect(201))
      .body;
    const [ready] = await containers(t, 'pool=p1&state=ready');
    await sim.destroy(target, ready.name);
    await sim.destroy(target, lease.containers[0].name);
    await t.reconcile();
    expect(
      (await t.http.get(`/v1/admin/containers/${ready.id}`).set(t.admin)).body.error,
    ).toContain('no longer has');
    expect((await t.http.get(`/v1/leases/${lease.id}`).set(t.admin)).body.state).toBe('revoked');
    expect(await settle(t)).toMatchObject({ ready: 2, leased: 0 });
    await assertInvariants(t);
  });

  it('rolls ready containers onto a new template version; leased ones finish on the old', async () => {
    await seedSimPool(t, { minReady: 2 });
    const lease = (await t.http.post('/v1/leases').set(t.admin).send({ pool: 'p1' }).expect(201))
      .body;
    await settle(t);
    await t.http
      .put('/v1/admin/templates/tpl')
      .set(t.admin)
      .send({ driver: 'sim', setup: [['true']] })
      .expect(200);
    await settle(t);
    const ready = await containers(t, 'pool=p1&state=ready');
    expect(ready.map((c) => c.templateVersion)).toEqual([2, 2]);
    expect(
      (await t.http.get(`/v1/admin/containers/${lease.containers[0].id}`).set(t.admin)).body,
    ).toMatchObject({
      state: 'leased',
      templateVersion: 1,
    });
    const builds = (await t.http.get('/v1/admin/templates/tpl').set(t.admin)).body.builds;
    expect(builds.map((b: { version: number }) => b.version).sort()).toEqual([1, 2]);
    await t.http.delete(`/v1/leases/${lease.id}`).set(t.admin).expect(200);
    await settle(t);
    await t.reconcile();
    const after = (await t.http.get('/v1/admin/templates/tpl').set(t.admin)).body.builds;
    expect(after.map((b: { version: number }) => b.version)).toEqual([2]);
  });

  it('never gives one address to two live containers, also after a restart', async () => {
    await seedSimPool(t, { minReady: 5, hostBody: { subnet: '10.77.0.0/29' } });
    // A /29 has 5 container addresses (gateway and broadcast excluded): the pool fits exactly.
    const ips = (await containers(t, 'pool=p1&state=ready')).map((c) => c.ip);
    expect(new Set(ips).size).toBe(5);
    expect(ips.sort()).toEqual(['10.77.0.2', '10.77.0.3', '10.77.0.4', '10.77.0.5', '10.77.0.6']);
    const lease = (await t.http.post('/v1/leases').set(t.admin).send({ pool: 'p1' }).expect(201))
      .body;
    await t.http.delete(`/v1/leases/${lease.id}`).set(t.admin).expect(200);
    await settle(t);
    const again = (await containers(t, 'pool=p1&state=ready')).map((c) => c.ip);
    expect(new Set(again).size).toBe(5);
  });
});

describe('addresses across a restart [embedded, persisted]', () => {
  it('a restarted service allocates around the addresses its database already holds', async () => {
    const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/wp-restart-'));
    const env = { WARMPOOL_DATA_DIR: dir, WARMPOOL_ORPHAN_SCAN_INTERVAL_MS: '3600000' };
    const first = await startTestApp('embedded', { env });
    await seedSimPool(first, { minReady: 3, hostBody: { subnet: '10.78.0.0/28' } });
    const before = (await containers(first, 'pool=p1&state=ready')).map((c) => c.ip);
    await first.close();

    const second = await startTestApp('embedded', { env });
    try {
      await second.http
        .patch('/v1/admin/pools/p1')
        .set(second.admin)
        .send({ minReady: 6 })
        .expect(200);
      await second.reconcile();
      const live = (await containers(second, 'pool=p1')).filter((c) => c.state !== 'destroyed');
      const ips = live.map((c) => c.ip);
      expect(ips).toEqual(expect.arrayContaining(before));
      expect(new Set(ips).size).toBe(ips.length);
      expect(ips.length).toBe(6);
    } finally {
      await second.close();
      await import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true }));
    }
  });
});

import {
  createTenant,
  forEachBackend,
  poolStatus,
  seedSimPool,
  settle,
  startTestApp,
  TestApp,
} from '../support/test-app';

forEachBackend('admin API', (backend) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(backend);
    await seedSimPool(t, { minReady: 2 });
  });
  afterAll(() => t.close());

  describe('authentication', () => {
    it('401 without or with a wrong token, 403 for a tenant on admin routes', async () => {
      const tenant = await createTenant(t, 'auth-tenant', 10);
      const none = await t.http.get('/v1/admin/pools').expect(401);
      expect(none.body).toMatchObject({ statusCode: 401, code: 'unauthorized' });
      await t.http
        .get('/v1/admin/pools')
        .set('Authorization', 'Bearer wrong-token-0123456789')
        .expect(401);
      await t.http.get('/v1/admin/pools').set('Authorization', 'Basic abc').expect(401);
      await t.http.get('/v1/leases').set('Authorization', 'Bearer wrong').expect(401);
      const forbidden = await t.http.get('/v1/admin/pools').set(tenant).expect(403);
      expect(forbidden.body.code).toBe('forbidden');
      await t.http.get('/v1/leases').set(tenant).expect(200);
    });

    it('accepts each of several comma-separated admin tokens', async () => {
      const multi = await startTestApp('embedded', {
        env: { WARMPOOL_ADMIN_TOKEN: 'first-admin-token-0123456789,second-admin-token-0123456' },
      });
      try {
        await multi.http
          .get('/v1/admin/pools')
          .set('Authorization', 'Bearer first-admin-token-0123456789')
          .expect(200);
        await multi.http
          .get('/v1/admin/pools')
          .set('Authorization', 'Bearer second-admin-token-0123456')
          .expect(200);
        await multi.http
          .get('/v1/admin/pools')
          .set('Authorization', 'Bearer first-admin-token-012345678')
          .expect(401);
      } finally {
        await multi.close();
      }
    });
  });

  describe('tenants', () => {
    it('creates with a token shown once, lists without tokens, tunes the quota, rotates the token', async () => {
      const created = await t.http
        .post('/v1/admin/tenants')
        .set(t.admin)
        .send({ name: 'team-a', maxConcurrentContainers: 5 })
        .expect(201);
      expect(created.body).toMatchObject({
        name: 'team-a',
        maxConcurrentContainers: 5,
        leasedContainers: 0,
      });
      const oldToken = created.body.token as string;
      expect(oldToken).toMatch(/^wpt_/);
      await t.http
        .post('/v1/admin/tenants')
        .set(t.admin)
        .send({ name: 'team-a', maxConcurrentContainers: 5 })
        .expect(409);

      const list = await t.http.get('/v1/admin/tenants').set(t.admin).expect(200);
      const listed = list.body.items.find((x: { name: string }) => x.name === 'team-a');
      expect(listed).toBeDefined();
      expect(JSON.stringify(list.body)).not.toContain(oldToken);
      expect(listed.token).toBeUndefined();

      const patched = await t.http
        .patch('/v1/admin/tenants/team-a')
        .set(t.admin)
        .send({ maxConcurrentContainers: 9 })
        .expect(200);
      expect(patched.body.maxConcurrentContainers).toBe(9);

      const rotated = await t.http.post('/v1/admin/tenants/team-a/token').set(t.admin).expect(200);
      expect(rotated.body.token).not.toBe(oldToken);
      await t.http.get('/v1/leases').set('Authorization', `Bearer ${oldToken}`).expect(401);
      await t.http
        .get('/v1/leases')
        .set('Authorization', `Bearer ${rotated.body.token}`)
        .expect(200);
      await t.http
        .patch('/v1/admin/tenants/nobody')
        .set(t.admin)
        .send({ maxConcurrentContainers: 1 })
        .expect(404);
      await t.http
        .post('/v1/admin/tenants')
        .set(t.admin)
        .send({ name: 'Bad Name', maxConcurrentContainers: 1 })
        .expect(400);
    });
  });

  describe('templates', () => {
    it('creates (201), replaces without change (200, same version), bumps the version on change and on rebuild', async () => {
      const created = await t.http
        .put('/v1/admin/templates/tmpl-a')
        .set(t.admin)
        .send({ driver: 'sim' })
        .expect(201);
      expect(created.body).toMatchObject({
        name: 'tmpl-a',
        driver: 'sim',
        version: 1,
        state: 'building',
        builtAt: null,
      });
      await t.reconcile();
      const built = await t.http.get('/v1/admin/templates/tmpl-a').set(t.admin).expect(200);
      expect(built.body).toMatchObject({ version: 1, state: 'ready', error: null });
      expect(built.body.builtAt).toEqual(expect.any(String));
      expect(built.body.builds).toEqual([
        expect.objectContaining({ host: 'sim1', version: 1, state: 'ready' }),
      ]);

      const same = await t.http
        .put('/v1/admin/templates/tmpl-a')
        .set(t.admin)
        .send({ driver: 'sim' })
        .expect(200);
      expect(same.body.version).toBe(1);
      const changed = await t.http
        .put('/v1/admin/templates/tmpl-a')
        .set(t.admin)
        .send({ driver: 'sim', setup: [['sh', '-c', 'echo v2']] })
        .expect(200);
      expect(changed.body).toMatchObject({ version: 2, state: 'building' });
      const rebuilt = await t.http
        .post('/v1/admin/templates/tmpl-a/rebuild')
        .set(t.admin)
        .expect(200);
      expect(rebuilt.body.version).toBe(3);
      await t.reconcile();
      expect((await t.http.get('/v1/admin/templates/tmpl-a').set(t.admin)).body).toMatchObject({
        version: 3,
        state: 'ready',
      });
    });

    it('validates sources and setup argv, refuses to delete a template a pool uses', async () => {
      await t.http
        .put('/v1/admin/templates/bad')
        .set(t.admin)
        .send({ driver: 'sim', source: { lxcTemplate: 'busybox' } })
        .expect(400);
      await t.http
        .put('/v1/admin/templates/bad')
        .set(t.admin)
        .send({ driver: 'openvz' })
        .expect(400);
      await t.http
        .put('/v1/admin/templates/bad')
        .set(t.admin)
        .send({ driver: 'lxc', source: { rootfs: 'relative/path' } })
        .expect(400);
      await t.http
        .put('/v1/admin/templates/bad')
        .set(t.admin)
        .send({ driver: 'sim', setup: ['echo hi'] })
        .expect(400);
      await t.http
        .put('/v1/admin/templates/bad')
        .set(t.admin)
        .send({ driver: 'docker' })
        .expect(400);
      await t.http.get('/v1/admin/templates/bad').set(t.admin).expect(404);
      const conflict = await t.http.delete('/v1/admin/templates/tpl').set(t.admin).expect(409);
      expect(conflict.body.code).toBe('conflict');
      await t.http
        .put('/v1/admin/templates/unused')
        .set(t.admin)
        .send({ driver: 'sim' })
        .expect(201);
      await t.http.delete('/v1/admin/templates/unused').set(t.admin).expect(204);
      await t.http.get('/v1/admin/templates/unused').set(t.admin).expect(404);
    });

    it('a template whose driver no host runs fails with a reason', async () => {
      await t.http
        .put('/v1/admin/templates/ovz')
        .set(t.admin)
        .send({ driver: 'openvz', source: { ostemplate: 'centos-7-x86_64' } })
        .expect(201);
      await t.reconcile();
      const res = await t.http.get('/v1/admin/templates/ovz').set(t.admin).expect(200);
      expect(res.body.state).toBe('failed');
      expect(res.body.error).toContain('openvz');
      await t.http.delete('/v1/admin/templates/ovz').set(t.admin).expect(204);
    });
  });

  describe('pools', () => {
    it('PUT creates (201) and replaces (200); the rules of API.md are 400 and change nothing', async () => {
      const created = await t.http
        .put('/v1/admin/pools/tuned')
        .set(t.admin)
        .send({ template: 'tpl', minReady: 1, maxReady: 3, maxTotal: 4 })
        .expect(201);
      expect(created.body).toMatchObject({
        name: 'tuned',
        template: 'tpl',
        minReady: 1,
        maxReady: 3,
        maxTotal: 4,
        recycle: 'destroy',
        resources: { network: 'isolated' },
        status: { ready: 0, provisioning: 0, leased: 0, waiting: 0 },
      });
      for (const body of [
        { template: 'tpl', minReady: 5, maxReady: 3 },
        { template: 'tpl', maxReady: 10, maxTotal: 5 },
        { template: 'tpl', resources: { network: 'bridged' } },
        { template: 'tpl', recycle: 'reuse' },
        { template: 'tpl', schedules: [{ cron: 'not a cron', durationMinutes: 5, minReady: 1 }] },
        {
          template: 'tpl',
          schedules: [
            { cron: '0 8 * * *', durationMinutes: 5, minReady: 1, timezone: 'Mars/Olympus' },
          ],
        },
        { template: 'no-such-template' },
        { template: 'tpl', minReady: -1 },
      ]) {
        const res = await t.http.put('/v1/admin/pools/tuned').set(t.admin).send(body).expect(400);
        expect(res.body.code).toBe('validation_failed');
        expect(res.body.details.fields.length).toBeGreaterThan(0);
      }
      const unchanged = await t.http.get('/v1/admin/pools/tuned').set(t.admin).expect(200);
      expect(unchanged.body).toMatchObject({ minReady: 1, maxReady: 3, maxTotal: 4 });
      const replaced = await t.http
        .put('/v1/admin/pools/tuned')
        .set(t.admin)
        .send({ template: 'tpl', minReady: 2 })
        .expect(200);
      expect(replaced.body).toMatchObject({ minReady: 2, maxReady: 50, maxTotal: 100 });
    });

    it('PATCH tunes a live pool, taking effect on the next reconcile pass without a restart', async () => {
      await t.http
        .put('/v1/admin/pools/live')
        .set(t.admin)
        .send({ template: 'tpl', minReady: 1, scaleDownDelaySeconds: 0 })
        .expect(201);
      expect(await settle(t, 'live')).toMatchObject({ ready: 1, target: 1 });
      const patched = await t.http
        .patch('/v1/admin/pools/live')
        .set(t.admin)
        .send({ minReady: 4, resources: { memoryMb: 512 } })
        .expect(200);
      expect(patched.body).toMatchObject({
        minReady: 4,
        resources: { memoryMb: 512, network: 'isolated' },
      });
      expect(await settle(t, 'live')).toMatchObject({
        ready: 4,
        target: 4,
        targetReason: 'minReady',
      });
      await t.http.patch('/v1/admin/pools/live').set(t.admin).send({ minReady: 1 }).expect(200);
      expect(await settle(t, 'live')).toMatchObject({ ready: 1, target: 1 });
      await t.http
        .patch('/v1/admin/pools/live')
        .set(t.admin)
        .send({ minReady: 99, maxReady: 10 })
        .expect(400);
      await t.http.patch('/v1/admin/pools/nope').set(t.admin).send({ minReady: 1 }).expect(404);
      const list = await t.http.get('/v1/admin/pools').set(t.admin).expect(200);
      const live = list.body.items.find((p: { name: string }) => p.name === 'live');
      expect(live.status).toEqual(
        expect.objectContaining({
          ready: 1,
          provisioning: 0,
          leased: 0,
          recycling: 0,
          failed: 0,
          target: 1,
          waiting: 0,
          utilization: 0,
        }),
      );
    });

    it('DELETE drains: 409 while leases are active, ?force=true revokes them; waiters are answered 404', async () => {
      await t.http
        .put('/v1/admin/pools/doomed')
        .set(t.admin)
        .send({ template: 'tpl', minReady: 2 })
        .expect(201);
      await settle(t, 'doomed');
      const lease = (
        await t.http.post('/v1/leases').set(t.admin).send({ pool: 'doomed' }).expect(201)
      ).body;
      const conflict = await t.http.delete('/v1/admin/pools/doomed').set(t.admin).expect(409);
      expect(conflict.body.details).toMatchObject({ activeLeases: 1 });
      await t.http.delete('/v1/admin/pools/doomed?force=maybe').set(t.admin).expect(400);
      await t.http.delete('/v1/admin/pools/doomed?force=true').set(t.admin).expect(204);
      expect((await t.http.get(`/v1/leases/${lease.id}`).set(t.admin)).body.state).toBe('revoked');
      await t.http.get('/v1/admin/pools/doomed').set(t.admin).expect(404);
      await t.http.post('/v1/leases').set(t.admin).send({ pool: 'doomed' }).expect(404);
      for (let i = 0; i < 5; i++) await t.reconcile();
      const left = await t.http
        .get('/v1/admin/containers?pool=doomed&limit=100')
        .set(t.admin)
        .expect(200);
      expect(left.body.items.every((c: { state: string }) => c.state === 'destroyed')).toBe(true);
      // The name is free again.
      await t.http
        .put('/v1/admin/pools/doomed')
        .set(t.admin)
        .send({ template: 'tpl', minReady: 0 })
        .expect(201);
    });
  });

  describe('hosts', () => {
    it('validates addresses and options, shows counts and health, refuses to delete a host with containers', async () => {
      for (const body of [
        { driver: 'sim', address: 'ssh://root@host;rm -rf /:22' },
        { driver: 'sim', address: 'ftp://x' },
        { driver: 'sim', options: { failureRate: 2 } },
        { driver: 'sim', options: { nonsense: 1 } },
        { driver: 'lxc', options: { lxcPath: '../etc' } },
        { driver: 'sim', subnet: '10.0.0.0/33' },
        { driver: 'kvm' },
      ]) {
        const res = await t.http.put('/v1/admin/hosts/badhost').set(t.admin).send(body).expect(400);
        expect(res.body.code).toBe('validation_failed');
      }
      await t.http.get('/v1/admin/hosts/badhost').set(t.admin).expect(404);
      const hosts = await t.http.get('/v1/admin/hosts').set(t.admin).expect(200);
      const sim1 = hosts.body.items.find((h: { name: string }) => h.name === 'sim1');
      expect(sim1).toMatchObject({
        driver: 'sim',
        resolvedDriver: 'sim',
        state: 'active',
        health: 'up',
        lastError: null,
        address: 'local',
      });
      expect(sim1.subnet).toMatch(/^10\.88\.\d+\.0\/22$/);
      expect(sim1.gateway).toMatch(/^10\.88\.\d+\.1$/);
      expect(sim1.counts.live).toBeGreaterThan(0);
      expect(sim1.counts.ready).toBeGreaterThan(0);
      const conflict = await t.http.delete('/v1/admin/hosts/sim1').set(t.admin).expect(409);
      expect(conflict.body.code).toBe('conflict');
      await t.http
        .put('/v1/admin/hosts/spare')
        .set(t.admin)
        .send({ driver: 'sim', subnet: '10.99.0.0/24' })
        .expect(201);
      await t.http
        .patch('/v1/admin/hosts/spare')
        .set(t.admin)
        .send({ state: 'disabled' })
        .expect(200);
      await t.http.delete('/v1/admin/hosts/spare').set(t.admin).expect(204);
    });
  });

  describe('containers, leases and events', () => {
    it('lists containers with filters and the time of each state passed', async () => {
      const res = await t.http
        .get('/v1/admin/containers?pool=p1&state=ready&host=sim1')
        .set(t.admin)
        .expect(200);
      expect(res.body.items.length).toBeGreaterThanOrEqual(2);
      for (const c of res.body.items) {
        expect(c).toMatchObject({
          pool: 'p1',
          host: 'sim1',
          state: 'ready',
          templateVersion: 1,
          leaseId: null,
        });
        expect(c.createdAt).toEqual(expect.any(String));
        expect(c.readyAt).toEqual(expect.any(String));
        expect(c.ip).toMatch(/^10\.88\./);
      }
      await t.http.get('/v1/admin/containers?state=sleeping').set(t.admin).expect(400);
    });

    it('DELETE on a ready container destroys it and the pool backfills; on a leased one it revokes the lease', async () => {
      const before = await poolStatus(t);
      const ready = (await t.http.get('/v1/admin/containers?pool=p1&state=ready').set(t.admin)).body
        .items[0];
      const destroyed = await t.http
        .delete(`/v1/admin/containers/${ready.id}`)
        .set(t.admin)
        .expect(200);
      expect(destroyed.body.state).toBe('retiring');
      await settle(t);
      expect((await t.http.get(`/v1/admin/containers/${ready.id}`).set(t.admin)).body.state).toBe(
        'destroyed',
      );
      expect((await poolStatus(t)).ready).toBe(before.ready);

      const lease = (
        await t.http.post('/v1/leases').set(t.admin).send({ pool: 'p1', count: 2 }).expect(201)
      ).body;
      await t.http
        .delete(`/v1/admin/containers/${lease.containers[0].id}`)
        .set(t.admin)
        .expect(200);
      const revoked = await t.http.get(`/v1/leases/${lease.id}`).set(t.admin).expect(200);
      expect(revoked.body.state).toBe('revoked');
      await settle(t);
      const states = await Promise.all(
        lease.containers.map(
          async (c: { id: string }) =>
            (await t.http.get(`/v1/admin/containers/${c.id}`).set(t.admin)).body.state,
        ),
      );
      expect(states).toEqual(['destroyed', 'destroyed']);
      await t.http
        .delete('/v1/admin/containers/00000000-0000-4000-8000-000000000000')
        .set(t.admin)
        .expect(404);
    });

    it('admin lists and revokes any lease', async () => {
      const tenant = await createTenant(t, 'rev-tenant', 10);
      const lease = (await t.http.post('/v1/leases').set(tenant).send({ pool: 'p1' }).expect(201))
        .body;
      const list = await t.http.get('/v1/admin/leases?state=active').set(t.admin).expect(200);
      expect(list.body.items.map((l: { id: string }) => l.id)).toContain(lease.id);
      const revoked = await t.http.delete(`/v1/admin/leases/${lease.id}`).set(t.admin).expect(200);
      expect(revoked.body.state).toBe('revoked');
      expect((await t.http.get(`/v1/leases/${lease.id}`).set(tenant)).body.state).toBe('revoked');
      const tenants = await t.http.get('/v1/admin/tenants').set(t.admin);
      expect(
        tenants.body.items.find((x: { name: string }) => x.name === 'rev-tenant').leasedContainers,
      ).toBe(0);
    });

    it('records every container state change as an event, filterable and paged', async () => {
      const lease = (await t.http.post('/v1/leases').set(t.admin).send({ pool: 'p1' }).expect(201))
        .body;
      const containerId = lease.containers[0].id as string;
      await t.http.delete(`/v1/leases/${lease.id}`).set(t.admin).expect(200);
      await settle(t);
      const events = await t.http
        .get(`/v1/admin/events?container=${containerId}`)
        .set(t.admin)
        .expect(200);
      const transitions = events.body.items
        .map((e: { fromState: string; toState: string }) => `${e.fromState}→${e.toState}`)
        .reverse();
      expect(transitions).toEqual([
        'null→provisioning',
        'provisioning→ready',
        'ready→leased',
        'leased→recycling',
        'recycling→destroyed',
      ]);
      const page = await t.http.get('/v1/admin/events?pool=p1&limit=2').set(t.admin).expect(200);
      expect(page.body.items).toHaveLength(2);
      const next = await t.http
        .get(`/v1/admin/events?pool=p1&limit=2&cursor=${page.body.nextCursor}`)
        .set(t.admin)
        .expect(200);
      expect(Number(next.body.items[0].id)).toBeLessThan(Number(page.body.items[1].id));
      const future = await t.http
        .get(`/v1/admin/events?since=${new Date(Date.now() + 60_000).toISOString()}`)
        .set(t.admin)
        .expect(200);
      expect(future.body.items).toEqual([]);
      await t.http.get('/v1/admin/events?since=yesterday').set(t.admin).expect(400);
    });

    it('POST /v1/admin/reconcile runs a pass and says what it did', async () => {
      await t.http.patch('/v1/admin/pools/p1').set(t.admin).send({ minReady: 5 }).expect(200);
      const res = await t.http.post('/v1/admin/reconcile?wait=true').set(t.admin).expect(200);
      expect(res.body).toMatchObject({ leader: true, provisioning: { p1: expect.any(Number) } });
      expect((await poolStatus(t)).ready).toBe(5);
      await t.http.patch('/v1/admin/pools/p1').set(t.admin).send({ minReady: 2 }).expect(200);
    });
  });
});

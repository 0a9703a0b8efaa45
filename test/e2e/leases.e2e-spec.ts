import {
  createTenant,
  forEachBackend,
  poolStatus,
  seedSimPool,
  settle,
  startTestApp,
  TestApp,
} from '../support/test-app';

forEachBackend('lease API', (backend) => {
  let t: TestApp;
  let ci: Record<string, string>;
  let other: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp(backend);
    await seedSimPool(t, { minReady: 4, maxLeaseSeconds: undefined } as never);
    ci = await createTenant(t, 'ci', 100);
    other = await createTenant(t, 'other', 100);
  });
  afterAll(() => t.close());
  afterEach(async () => {
    // Leave the pool full for the next test.
    await settle(t);
  });

  it('leases a warm container, shows it, runs a command in it and releases it', async () => {
    const created = await t.http
      .post('/v1/leases')
      .set(ci)
      .send({ pool: 'p1', ttlSeconds: 600, labels: { build: '1234' } })
      .expect(201);
    const lease = created.body;
    expect(lease).toMatchObject({
      pool: 'p1',
      tenant: 'ci',
      state: 'active',
      waitedMs: 0,
      labels: { build: '1234' },
    });
    expect(lease.containers).toHaveLength(1);
    expect(lease.containers[0]).toMatchObject({ host: 'sim1', templateVersion: 1 });
    expect(lease.containers[0].name).toMatch(/^wp-[0-9a-f]{8}$/);
    expect(lease.containers[0].ip).toMatch(/^10\.88\.\d+\.\d+$/);
    expect(Date.parse(lease.expiresAt) - Date.parse(lease.createdAt)).toBe(600_000);

    const got = await t.http.get(`/v1/leases/${lease.id}`).set(ci).expect(200);
    expect(got.body).toEqual(lease);

    const exec = await t.http
      .post(`/v1/leases/${lease.id}/exec`)
      .set(ci)
      .send({ command: ['id', '-u'] })
      .expect(200);
    expect(exec.body).toMatchObject({
      exitCode: 0,
      stdout: '0\n',
      stderr: '',
      timedOut: false,
      truncated: false,
    });

    const released = await t.http.delete(`/v1/leases/${lease.id}`).set(ci).expect(200);
    expect(released.body.state).toBe('released');
    expect(released.body.releasedAt).toEqual(expect.any(String));
    // Idempotent: the same body again.
    const again = await t.http.delete(`/v1/leases/${lease.id}`).set(ci).expect(200);
    expect(again.body).toEqual(released.body);

    await t.http
      .post(`/v1/leases/${lease.id}/exec`)
      .set(ci)
      .send({ command: ['true'] })
      .expect(409);
    await t.http.post(`/v1/leases/${lease.id}/renew`).set(ci).send({ ttlSeconds: 60 }).expect(409);
  });

  it('streams exec output as NDJSON when asked', async () => {
    const lease = (await t.http.post('/v1/leases').set(ci).send({ pool: 'p1' }).expect(201)).body;
    const res = await t.http
      .post(`/v1/leases/${lease.id}/exec`)
      .set(ci)
      .set('Accept', 'application/x-ndjson')
      .send({ command: ['echo', 'hello', 'world'] })
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => cb(null, text));
      })
      .expect(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const lines = (res.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ stream: 'stdout', data: 'hello world\n' });
    expect(lines.at(-1)).toMatchObject({ exitCode: 0, timedOut: false });
    await t.http.delete(`/v1/leases/${lease.id}`).set(ci).expect(200);
  });

  it('leases several containers at once and lists, filters and pages leases', async () => {
    const a = (
      await t.http
        .post('/v1/leases')
        .set(ci)
        .send({ pool: 'p1', count: 2, labels: { build: 'a' } })
        .expect(201)
    ).body;
    const b = (
      await t.http
        .post('/v1/leases')
        .set(ci)
        .send({ pool: 'p1', labels: { build: 'b' } })
        .expect(201)
    ).body;
    expect(a.containers).toHaveLength(2);
    expect(new Set([...a.containers, ...b.containers].map((c: { id: string }) => c.id)).size).toBe(
      3,
    );

    const byLabel = await t.http.get('/v1/leases?label=build:a').set(ci).expect(200);
    expect(byLabel.body.items.map((l: { id: string }) => l.id)).toEqual([a.id]);

    const page1 = await t.http.get('/v1/leases?state=active&limit=1').set(ci).expect(200);
    expect(page1.body.items.map((l: { id: string }) => l.id)).toEqual([b.id]);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await t.http
      .get(`/v1/leases?state=active&limit=1&cursor=${encodeURIComponent(page1.body.nextCursor)}`)
      .set(ci)
      .expect(200);
    expect(page2.body.items.map((l: { id: string }) => l.id)).toEqual([a.id]);
    expect(page2.body.nextCursor).toBeNull();

    // Another tenant sees none of them; an admin sees them all.
    expect((await t.http.get('/v1/leases').set(other).expect(200)).body.items).toEqual([]);
    const all = await t.http.get('/v1/leases?state=active').set(t.admin).expect(200);
    expect(all.body.items.map((l: { id: string }) => l.id)).toEqual(
      expect.arrayContaining([a.id, b.id]),
    );

    await t.http.delete(`/v1/leases/${a.id}`).set(ci).expect(200);
    await t.http.delete(`/v1/leases/${b.id}`).set(ci).expect(200);
  });

  it("hides one tenant's leases from another: 404 on get, renew, release and exec", async () => {
    const lease = (await t.http.post('/v1/leases').set(ci).send({ pool: 'p1' }).expect(201)).body;
    const notFound = (r: { body: { code: string } }): void => expect(r.body.code).toBe('not_found');
    await t.http.get(`/v1/leases/${lease.id}`).set(other).expect(404).expect(notFound);
    await t.http
      .post(`/v1/leases/${lease.id}/renew`)
      .set(other)
      .send({ ttlSeconds: 60 })
      .expect(404)
      .expect(notFound);
    await t.http.delete(`/v1/leases/${lease.id}`).set(other).expect(404).expect(notFound);
    await t.http
      .post(`/v1/leases/${lease.id}/exec`)
      .set(other)
      .send({ command: ['true'] })
      .expect(404)
      .expect(notFound);
    // The other tenant's attempts changed nothing.
    const still = await t.http.get(`/v1/leases/${lease.id}`).set(ci).expect(200);
    expect(still.body.state).toBe('active');
    await t.http.delete(`/v1/leases/${lease.id}`).set(ci).expect(200);
  });

  it('renews up to now + ttl, never past createdAt + maxLeaseSeconds', async () => {
    await t.http
      .patch('/v1/admin/pools/p1')
      .set(t.admin)
      .send({ maxLeaseSeconds: 7200, defaultLeaseSeconds: 600 })
      .expect(200);
    const lease = (await t.http.post('/v1/leases').set(ci).send({ pool: 'p1' }).expect(201)).body;
    expect(Date.parse(lease.expiresAt) - Date.parse(lease.createdAt)).toBe(600_000);
    const renewed = await t.http
      .post(`/v1/leases/${lease.id}/renew`)
      .set(ci)
      .send({ ttlSeconds: 3600 })
      .expect(200);
    const delta = Date.parse(renewed.body.expiresAt) - Date.now();
    expect(delta).toBeGreaterThan(3590_000);
    expect(delta).toBeLessThanOrEqual(3600_000);
    const capped = await t.http
      .post(`/v1/leases/${lease.id}/renew`)
      .set(ci)
      .send({ ttlSeconds: 7200 })
      .expect(200);
    expect(Date.parse(capped.body.expiresAt)).toBe(Date.parse(lease.createdAt) + 7200_000);
    await t.http
      .post(`/v1/leases/${lease.id}/renew`)
      .set(ci)
      .send({ ttlSeconds: 7201 })
      .expect(400);
    await t.http.post('/v1/leases').set(ci).send({ pool: 'p1', ttlSeconds: 7201 }).expect(400);
    await t.http.delete(`/v1/leases/${lease.id}`).set(ci).expect(200);
  });

  describe('Idempotency-Key', () => {
    it('the same key twice → one lease, the same id, 200 the second time', async () => {
      const body = { pool: 'p1', labels: { build: 'idem' } };
      const first = await t.http
        .post('/v1/leases')
        .set(ci)
        .set('Idempotency-Key', 'build-77')
        .send(body)
        .expect(201);
      const before = await poolStatus(t);
      const second = await t.http
        .post('/v1/leases')
        .set(ci)
        .set('Idempotency-Key', 'build-77')
        .send(body)
        .expect(200);
      expect(second.body.id).toBe(first.body.id);
      expect((await poolStatus(t)).leased).toBe(before.leased);
      // The key is the tenant's own: another tenant with the same key gets its own lease.
      const theirs = await t.http
        .post('/v1/leases')
        .set(other)
        .set('Idempotency-Key', 'build-77')
        .send(body)
        .expect(201);
      expect(theirs.body.id).not.toBe(first.body.id);
      await t.http.delete(`/v1/leases/${first.body.id}`).set(ci).expect(200);
      await t.http.delete(`/v1/leases/${theirs.body.id}`).set(other).expect(200);
    });

    it('the same key with a different body → 422 idempotency_mismatch, nothing leased', async () => {
      const first = await t.http
        .post('/v1/leases')
        .set(ci)
        .set('Idempotency-Key', 'k-mismatch')
        .send({ pool: 'p1' })
        .expect(201);
      const before = await poolStatus(t);
      const res = await t.http
        .post('/v1/leases')
        .set(ci)
        .set('Idempotency-Key', 'k-mismatch')
        .send({ pool: 'p1', count: 2 })
        .expect(422);
      expect(res.body.code).toBe('idempotency_mismatch');
      expect(await poolStatus(t)).toEqual(before);
      await t.http.delete(`/v1/leases/${first.body.id}`).set(ci).expect(200);
    });

    it('concurrent requests with one key make one lease', async () => {
      const responses = await Promise.all(
        Array.from({ length: 8 }, () =>
          t.http.post('/v1/leases').set(ci).set('Idempotency-Key', 'k-race').send({ pool: 'p1' }),
        ),
      );
      const ids = new Set(responses.map((r) => r.body.id));
      expect(responses.map((r) => r.status).sort()).toEqual([
        200, 200, 200, 200, 200, 200, 200, 201,
      ]);
      expect(ids.size).toBe(1);
      expect((await poolStatus(t)).leased).toBe(1);
      await t.http
        .delete(`/v1/leases/${[...ids][0]}`)
        .set(ci)
        .expect(200);
    });

    it('rejects a key longer than 128 characters', async () => {
      const res = await t.http
        .post('/v1/leases')
        .set(ci)
        .set('Idempotency-Key', 'x'.repeat(129))
        .send({ pool: 'p1' })
        .expect(400);
      expect(res.body.code).toBe('validation_failed');
    });
  });

  it("enforces the tenant's maxConcurrentContainers: 429, nothing leased", async () => {
    const small = await createTenant(t, 'small', 2);
    const a = await t.http.post('/v1/leases').set(small).send({ pool: 'p1', count: 2 }).expect(201);
    const before = await poolStatus(t);
    const res = await t.http.post('/v1/leases').set(small).send({ pool: 'p1' }).expect(429);
    expect(res.body).toMatchObject({ statusCode: 429, code: 'quota_exceeded' });
    expect(res.body.details).toMatchObject({ leased: 2, maxConcurrentContainers: 2, requested: 1 });
    expect(await poolStatus(t)).toEqual(before);
    // Releasing gives the quota back.
    await t.http.delete(`/v1/leases/${a.body.id}`).set(small).expect(200);
    await settle(t);
    const b = await t.http.post('/v1/leases').set(small).send({ pool: 'p1', count: 2 }).expect(201);
    await t.http.delete(`/v1/leases/${b.body.id}`).set(small).expect(200);
  });

  it('answers bad input with 400 validation_failed naming each field, and changes nothing', async () => {
    const before = await poolStatus(t);
    const cases: [unknown, string][] = [
      [{}, 'pool'],
      [{ pool: 'Bad Name' }, 'pool'],
      [{ pool: 'p1', count: 0 }, 'count'],
      [{ pool: 'p1', count: 33 }, 'count'],
      [{ pool: 'p1', waitSeconds: 601 }, 'waitSeconds'],
      [{ pool: 'p1', priority: 10 }, 'priority'],
      [{ pool: 'p1', labels: { 'bad key!': 'x' } }, 'labels'],
      [{ pool: 'p1', extra: true }, 'extra'],
      [{ pool: 'p1', count: '2' }, 'count'],
    ];
    for (const [body, field] of cases) {
      const res = await t.http
        .post('/v1/leases')
        .set(ci)
        .send(body as object)
        .expect(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
    await t.http
      .post('/v1/leases')
      .set(ci)
      .set('content-type', 'application/json')
      .send('{"pool":')
      .expect(400);
    await t.http.get('/v1/leases/not-a-uuid').set(ci).expect(400);
    await t.http.get('/v1/leases?cursor=garbage').set(ci).expect(400);
    const lease = (await t.http.post('/v1/leases').set(ci).send({ pool: 'p1' }).expect(201)).body;
    for (const body of [
      { command: [] },
      { command: [''] },
      { command: 'ls' },
      { command: ['ls'], env: { 'A-B': 'x' } },
      { command: ['ls'], timeoutSeconds: 0 },
    ]) {
      const res = await t.http.post(`/v1/leases/${lease.id}/exec`).set(ci).send(body).expect(400);
      expect(res.body.code).toBe('validation_failed');
    }
    await t.http.delete(`/v1/leases/${lease.id}`).set(ci).expect(200);
    await settle(t);
    expect(await poolStatus(t)).toEqual(before);
  });

  it('404 not_found for an unknown pool; 503 pool_exhausted with Retry-After when nothing is ready', async () => {
    const missing = await t.http.post('/v1/leases').set(ci).send({ pool: 'nope' }).expect(404);
    expect(missing.body.code).toBe('not_found');
    const res = await t.http
      .post('/v1/leases')
      .set(ci)
      .send({ pool: 'p1', count: 32, waitSeconds: 0 })
      .expect(503);
    expect(res.body.code).toBe('pool_exhausted');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await poolStatus(t)).leased).toBe(0);
  });
});

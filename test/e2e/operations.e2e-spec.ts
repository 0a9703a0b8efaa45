import { forEachBackend, seedSimPool, startTestApp, TestApp } from '../support/test-app';

forEachBackend('operations', (backend) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(backend);
    await seedSimPool(t, { minReady: 2 });
  });
  afterAll(() => t.close());

  it('GET /healthz answers while the process lives, without a token', async () => {
    const res = await t.http.get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz names each dependency', async () => {
    const res = await t.http.get('/readyz').expect(200);
    expect(res.body).toEqual({
      status: 'ok',
      database: 'up',
      redis: backend === 'postgres' ? 'up' : 'disabled',
    });
  });

  it('GET /metrics has the series of DESIGN.md "Observability"', async () => {
    const lease = (await t.http.post('/v1/leases').set(t.admin).send({ pool: 'p1' }).expect(201))
      .body;
    await t.http
      .post('/v1/leases')
      .set(t.admin)
      .send({ pool: 'p1', count: 32, waitSeconds: 0 })
      .expect(503);
    await t.http.delete(`/v1/leases/${lease.id}`).set(t.admin).expect(200);
    await t.reconcile();
    const res = await t.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.text;
    expect(text).toMatch(/^warmpool_containers\{pool="p1",state="ready"\} 2$/m);
    expect(text).toMatch(/^warmpool_pool_target\{pool="p1"\} 2$/m);
    expect(text).toMatch(/^warmpool_lease_requests_total\{pool="p1",outcome="leased"\} 1$/m);
    expect(text).toMatch(/^warmpool_lease_requests_total\{pool="p1",outcome="exhausted"\} 1$/m);
    expect(text).toMatch(/^warmpool_lease_wait_seconds_count\{pool="p1"\} 1$/m);
    expect(text).toMatch(/^warmpool_provision_seconds_count\{pool="p1",host="sim1"\} \d+$/m);
    expect(text).toMatch(
      /^warmpool_recycle_seconds_count\{pool="p1",host="sim1",policy="destroy"\} 1$/m,
    );
    expect(text).toMatch(/^warmpool_reconcile_duration_seconds_count \d+$/m);
    expect(text).toMatch(/^warmpool_leader 1$/m);
    expect(text).toContain('# TYPE warmpool_driver_errors_total counter');
  });

  it('serves the OpenAPI document generated from the DTOs at /docs-json and the UI at /docs', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/v1/leases',
      '/v1/leases/{id}',
      '/v1/leases/{id}/renew',
      '/v1/leases/{id}/exec',
      '/v1/admin/pools/{name}',
      '/v1/admin/templates/{name}',
      '/v1/admin/hosts/{name}',
      '/v1/admin/tenants',
      '/v1/admin/containers',
      '/v1/admin/reconcile',
      '/v1/admin/events',
    ]) {
      expect(doc.paths).toHaveProperty([path]);
    }
    const lease = doc.components.schemas.CreateLeaseDto;
    expect(lease.required).toEqual(['pool']);
    expect(lease.properties.count).toMatchObject({ minimum: 1, maximum: 32 });
    const ui = await t.http.get('/docs').redirects(1).expect(200);
    expect(ui.text).toContain('swagger');
  });

  it('echoes X-Request-Id (or makes one) and puts it in error bodies', async () => {
    const given = await t.http.get('/healthz').set('X-Request-Id', 'trace-abc.123').expect(200);
    expect(given.headers['x-request-id']).toBe('trace-abc.123');
    const made = await t.http.get('/v1/leases').expect(401);
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.body.requestId).toBe(made.headers['x-request-id']);
    // Something that is not an id is replaced, not echoed.
    const hostile = await t.http.get('/healthz').set('X-Request-Id', 'a b<script>').expect(200);
    expect(hostile.headers['x-request-id']).not.toContain('<');
  });

  it('answers every error with the error shape of API.md, never a stack or SQL', async () => {
    const cases = [
      await t.http.get('/nowhere').expect(404),
      await t.http
        .post('/v1/leases')
        .set(t.admin)
        .set('content-type', 'application/xml')
        .send('<lease/>')
        .expect(415),
      await t.http
        .post('/v1/leases')
        .set(t.admin)
        .set('content-type', 'application/json')
        .send('{')
        .expect(400),
      await t.http
        .post('/v1/leases')
        .set(t.admin)
        .send({ pool: 'p1', count: 'x'.repeat(10) })
        .expect(400),
    ];
    for (const res of cases) {
      expect(Object.keys(res.body).sort()).toEqual([
        'code',
        'details',
        'message',
        'requestId',
        'statusCode',
      ]);
      expect(res.body.statusCode).toBe(res.status);
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+|SELECT|INSERT/);
    }
    const huge = await t.http
      .post('/v1/leases')
      .set(t.admin)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ pool: 'p1', labels: { a: 'x'.repeat(5 * 1024 * 1024) } }));
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe('validation_failed');
  });
});

describe('shutdown [embedded]', () => {
  it('answers waiting requests 503 unavailable at once instead of holding the shutdown up', async () => {
    const t = await startTestApp('embedded');
    await seedSimPool(t, { minReady: 0, maxTotal: 0, maxReady: 0 });
    const waiting = t.http
      .post('/v1/leases')
      .set(t.admin)
      .send({ pool: 'p1', waitSeconds: 600 })
      .then((r) => r);
    for (let i = 0; i < 100; i++) {
      const status = await t.http.get('/v1/admin/pools/p1').set(t.admin);
      if (status.body.status.waiting === 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const started = Date.now();
    await t.close();
    const res = await waiting;
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

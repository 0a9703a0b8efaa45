import { DataSource } from 'typeorm';
import { ADMIN_TOKEN, Backend, startTestApp, TestApp } from '../test/support/test-app';
import { HttpWorker, Timed } from './http-worker';
import {
  Args,
  Client,
  fmtMs,
  fmtRatio,
  machineLine,
  markdownTable,
  msSince,
  pairedRatio,
  summarize,
  timed,
  writeResult,
} from './support';

/**
 * The lease hot path, as ratios against baselines measured in the same run (bench/README.md).
 * Phase 1: a sim pool filled in advance, reconciler off, so nothing but the request runs.
 * Phase 2: the reconciler on, realistic sim latencies: on-demand (minReady 0) vs warm pool.
 */

const args = new Args();
const BACKEND: Backend = args.flag('postgres') ? 'postgres' : 'embedded';
const WARMUP = args.int('warmup', 100);
const SEQUENTIAL = args.int('iterations', 1000);
const CONCURRENCY = args.int('concurrency', 16);
const BURST = args.int('leases', 2000);
const ROUNDS = 4;
const NAIVE = args.int('naive', 40);
const POOL_MAX = 5000;
const REALISTIC = { cloneMs: 50, startMs: 100, resetMs: 30, destroyMs: 20 };

/**
 * The app of the running phase: Ctrl-C still closes it and drops a scratch database. Nest's
 * shutdown hooks send SIGINT again once they have closed the app; that lands here too.
 */
let running: TestApp | undefined;
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) return;
  interrupted = true;
  console.error('interrupted: closing the app');
  void (running?.close() ?? Promise.resolve())
    .catch(() => undefined)
    .finally(() => process.exit(130));
});

async function setUp(
  t: TestApp,
  host: Record<string, unknown>,
): Promise<{ admin: Client; token: string }> {
  const admin = new Client(await t.app.getUrl()).withToken(ADMIN_TOKEN);
  await admin.expect([200, 201], 'PUT', '/v1/admin/hosts/bench', {
    driver: 'sim',
    maxContainers: 20_000,
    maxConcurrentProvisions: 256,
    // Room for a full pool: the default /22 holds about a thousand addresses.
    subnet: '10.200.0.0/17',
    ...host,
  });
  await admin.expect([200, 201], 'PUT', '/v1/admin/templates/bench', { driver: 'sim' });
  const tenant = await admin.expect([201], 'POST', '/v1/admin/tenants', {
    name: 'bench',
    maxConcurrentContainers: 100_000,
  });
  return { admin, token: tenant.token as string };
}

async function putPool(admin: Client, name: string, body: Record<string, unknown>): Promise<void> {
  await admin.expect([200, 201], 'PUT', `/v1/admin/pools/${name}`, {
    template: 'bench',
    maxReady: POOL_MAX,
    maxTotal: POOL_MAX,
    scaleDownDelaySeconds: 86_400,
    ...body,
  });
}

async function readyCount(admin: Client, pool: string): Promise<number> {
  const view = await admin.expect([200], 'GET', `/v1/admin/pools/${pool}`);
  return (view.status as { ready: number }).ready;
}

/** Reconcile passes until `want` containers are ready (bounded). */
async function fill(t: TestApp, admin: Client, pool: string, want: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let pass = 0; pass < 200; pass++) {
    if ((await readyCount(admin, pool)) >= want) return msSince(start);
    await t.reconcile();
  }
  throw new Error(`pool ${pool} did not reach ${want} ready`);
}

interface WarmResults {
  lease: number[];
  get: number[];
  healthz: number[];
  select1: number[];
  concurrentLease: number[];
  leaseThroughput: number[];
  getThroughput: number[];
  fillMs: number;
}

const leaseBody = (pool: string, waitSeconds: number): Record<string, unknown> => ({
  pool,
  waitSeconds,
  ttlSeconds: 3600,
  labels: { bench: 'lease' },
});

/** Phase 1: the request alone, against a pool filled beforehand. */
async function warmPhase(): Promise<WarmResults> {
  const want = WARMUP + SEQUENTIAL + BURST;
  if (want > POOL_MAX) throw new Error(`warmup + iterations + leases must be ≤ ${POOL_MAX}`);
  const t = await startTestApp(BACKEND, { env: { WARMPOOL_RECONCILER_ENABLED: 'false' } });
  running = t;
  const http = HttpWorker.start(await t.app.getUrl());
  try {
    const { admin, token } = await setUp(t, {
      options: { cloneMs: 0, startMs: 0, resetMs: 0, destroyMs: 0 },
    });
    const db = t.app.get(DataSource);
    await t.reconcile();
    await putPool(admin, 'warm', { minReady: want });
    const fillMs = await fill(t, admin, 'warm', want);
    console.error(`phase 1: ${want} sim containers ready in ${fmtMs(fillMs)}`);

    const leaseReq = {
      method: 'POST',
      path: '/v1/leases',
      token,
      body: leaseBody('warm', 0),
      expect: [201],
    };
    const some = (await http.time(leaseReq)).body.id as string;
    const getReq = { method: 'GET', path: `/v1/leases/${some}`, token, expect: [200] };
    const healthReq = { method: 'GET', path: '/healthz', expect: [200] };

    // Interleaved, in a rotating order, so every series sees the same moments of noise.
    const r: WarmResults = {
      lease: [],
      get: [],
      healthz: [],
      select1: [],
      concurrentLease: [],
      leaseThroughput: [],
      getThroughput: [],
      fillMs,
    };
    const steps: ((record: boolean) => Promise<void>)[] = [
      async (record) => {
        const { ms } = await http.time(leaseReq);
        if (record) r.lease.push(ms);
      },
      async (record) => {
        const { ms } = await http.time(getReq);
        if (record) r.get.push(ms);
      },
      async (record) => {
        const { ms } = await http.time(healthReq);
        if (record) r.healthz.push(ms);
      },
      async (record) => {
        const { ms } = await timed(() => db.query('SELECT 1'));
        if (record) r.select1.push(ms);
      },
    ];
    for (let i = 1; i < WARMUP + SEQUENTIAL; i++) {
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length](i >= WARMUP);
    }
    console.error(`phase 1: ${SEQUENTIAL} sequential rounds done`);

    // Throughput: rounds of concurrent GETs then concurrent leases, alternating.
    const perRound = Math.floor(BURST / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      const gets = await http.burst(getReq, perRound, CONCURRENCY);
      const leases = await http.burst(leaseReq, perRound, CONCURRENCY);
      r.concurrentLease.push(...leases.latencies);
      r.getThroughput.push((perRound / gets.wallMs) * 1000);
      r.leaseThroughput.push((perRound / leases.wallMs) * 1000);
    }
    console.error(`phase 1: throughput rounds done`);
    return r;
  } finally {
    await http.close();
    await t.close();
    running = undefined;
  }
}

interface NaiveResults {
  naive: number[];
  warm: number[];
  warmWaited: number;
  passes: number;
  passMs: number;
}

/** Passes so far and their total duration, from the service's own histogram. */
async function reconcileTotals(admin: Client): Promise<{ count: number; seconds: number }> {
  const res = await fetch(`${admin.baseUrl}/metrics`);
  const text = await res.text();
  const value = (name: string): number =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    count: value('warmpool_reconcile_duration_seconds_count'),
    seconds: value('warmpool_reconcile_duration_seconds_sum'),
  };
}

/**
 * Phase 2: the first-cut design (every lease waits for a clone made on demand) against the
 * warm pool, with the reconciler running as in production and realistic sim latencies.
 */
async function naivePhase(): Promise<NaiveResults> {
  const t = await startTestApp(BACKEND, {
    env: { WARMPOOL_RECONCILER_ENABLED: 'true', WARMPOOL_WAIT_POLL_MS: '1000' },
  });
  running = t;
  const http = HttpWorker.start(await t.app.getUrl());
  try {
    const { admin, token } = await setUp(t, {
      maxConcurrentProvisions: 16,
      options: REALISTIC,
    });
    await putPool(admin, 'ondemand', { minReady: 0, maxTotal: 100, maxReady: 100 });
    await putPool(admin, 'warm', { minReady: 4, maxReady: 100, maxTotal: 100 });
    await fill(t, admin, 'warm', 4);
    const lease = async (pool: string): Promise<Timed> =>
      http.time({
        method: 'POST',
        path: '/v1/leases',
        token,
        body: leaseBody(pool, 30),
        expect: [201],
      });
    const before = await reconcileTotals(admin);

    const r: NaiveResults = { naive: [], warm: [], warmWaited: 0, passes: 0, passMs: 0 };
    for (let i = 0; i < NAIVE + 2; i++) {
      const record = i >= 2;
      const made: string[] = [];
      const steps = [
        async () => {
          const res = await lease('ondemand');
          made.push(res.body.id as string);
          if (record) r.naive.push(res.ms);
        },
        async () => {
          const res = await lease('warm');
          made.push(res.body.id as string);
          if (record) r.warm.push(res.ms);
          if (record && (res.body.waitedMs as number) > 0) r.warmWaited++;
        },
      ];
      if (i % 2) steps.reverse();
      for (const step of steps) await step();
      for (const id of made) {
        await http.time({ method: 'DELETE', path: `/v1/leases/${id}`, token, expect: [200] });
      }
    }
    const after = await reconcileTotals(admin);
    r.passes = after.count - before.count;
    r.passMs = ((after.seconds - before.seconds) * 1000) / Math.max(1, r.passes);
    return r;
  } finally {
    await http.close();
    await t.close();
    running = undefined;
  }
}

function report(warm: WarmResults, naive: NaiveResults): string {
  const lease = summarize(warm.lease);
  const get = summarize(warm.get);
  const healthz = summarize(warm.healthz);
  const select1 = summarize(warm.select1);
  const concurrent = summarize(warm.concurrentLease);
  const leaseTput = summarize(warm.leaseThroughput).median;
  const getTput = summarize(warm.getThroughput).median;
  const naiveS = summarize(naive.naive);
  const warmS = summarize(naive.warm);
  const backend = BACKEND === 'postgres' ? 'PostgreSQL + Redis' : 'embedded PGlite, in-process';

  const main = markdownTable(
    ['what', 'n', 'median', 'p99', 'ratio (the claim)'],
    [
      [
        '**warm lease** `POST /v1/leases` (sequential)',
        String(lease.n),
        fmtMs(lease.median),
        fmtMs(lease.p99),
        `**${fmtRatio(pairedRatio(warm.lease, warm.get))}** an authenticated GET`,
      ],
      [
        'baseline: authenticated `GET /v1/leases/{id}`',
        String(get.n),
        fmtMs(get.median),
        fmtMs(get.p99),
        '1×',
      ],
      [
        'floor: `GET /healthz` (no auth, no database)',
        String(healthz.n),
        fmtMs(healthz.median),
        fmtMs(healthz.p99),
        `lease = ${fmtRatio(pairedRatio(warm.lease, warm.healthz))}`,
      ],
      [
        'floor: `SELECT 1` on the app’s DataSource (no HTTP)',
        String(select1.n),
        fmtMs(select1.median),
        fmtMs(select1.p99),
        `lease = ${fmtRatio(pairedRatio(warm.lease, warm.select1))}`,
      ],
      [
        `warm lease under concurrency ${CONCURRENCY}`,
        String(concurrent.n),
        fmtMs(concurrent.median),
        fmtMs(concurrent.p99),
        `${leaseTput.toFixed(0)} leases/s vs ${getTput.toFixed(0)} GETs/s = **${fmtRatio(getTput / leaseTput)}**`,
      ],
    ],
  );
  const design = markdownTable(
    ['design (reconciler on, sim clone 50 ms + start 100 ms)', 'n', 'median', 'p99', 'ratio'],
    [
      [
        '**on demand** (pool minReady 0: the lease waits for a clone)',
        String(naiveS.n),
        fmtMs(naiveS.median),
        fmtMs(naiveS.p99),
        `**${fmtRatio(pairedRatio(naive.naive, naive.warm))}** the warm lease`,
      ],
      [
        `**warm pool** (minReady 4; ${naive.warmWaited} of ${warmS.n} waited)`,
        String(warmS.n),
        fmtMs(warmS.median),
        fmtMs(warmS.p99),
        '1×',
      ],
    ],
  );
  return [
    `### Lease hot path — ${backend}`,
    '',
    `<sub>${machineLine()} · fill of ${WARMUP + SEQUENTIAL + BURST} sim containers: ${fmtMs(warm.fillMs)}</sub>`,
    '',
    main,
    '',
    design,
    '',
    `Phase 2 ran ${naive.passes} reconcile passes (mean ${fmtMs(naive.passMs)}) on the server's thread.`,
    'Ratios are medians of per-pair ratios (each pair ran back to back); absolute times are',
    'for orientation only (shared machine).',
  ].join('\n');
}

async function main(): Promise<void> {
  const warm = await warmPhase();
  const naive = await naivePhase();
  const markdown = report(warm, naive);
  console.log(markdown);
  const path = writeResult(BACKEND === 'postgres' ? 'lease-postgres' : 'lease', markdown);
  console.error(`written to ${path}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

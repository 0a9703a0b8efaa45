import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createCommandRunner } from '../src/drivers/command-runner.factory';
import { CommandRunner, RunOptions, RunResult } from '../src/drivers/command-runner';
import { ContainerSpec, HostTarget, ResourceLimits } from '../src/drivers/container-driver';
import { goldenName } from '../src/drivers/lxc/lxc-config';
import { nftTableName } from '../src/drivers/lxc/lxc-network';
import { LxcDriver } from '../src/drivers/lxc/lxc.driver';
import { gatewayOf, parseSubnet } from '../src/hosts/subnet';
import { lxcLs, removeLxcLeftovers } from '../test/support/lxc';
import { ADMIN_TOKEN, Backend, startTestApp, TestApp } from '../test/support/test-app';
import { HttpWorker } from './http-worker';
import {
  Args,
  Client,
  fmtMs,
  fmtRatio,
  machineLine,
  markdownTable,
  msSince,
  pairedRatio,
  Summary,
  summarize,
  timed,
  writeResult,
} from './support';

/**
 * Real LXC containers: a warm lease through the service against a container made on demand
 * (the first-cut design), both by the LxcDriver directly and through the service with a pool
 * of minReady 0. Rounds interleave the three paths so they share the machine's noise; each
 * step starts from a quiet host (nothing provisioning or recycling).
 */

const args = new Args();
const BACKEND: Backend = args.flag('postgres') ? 'postgres' : 'embedded';
const ROUNDS = args.int('rounds', 20);
const WARMUP_ROUNDS = 1;
// Its own bridge, subnet and lxc path: the e2e suites use 10.231.8-9.x, the driver test 10.231.0.x,
// `npm start` 10.88.x and /var/lib/lxc.
const BRIDGE = 'wpbrbench';
const SUBNET = '10.231.40.0/24';
const LXC_PATH = '/var/lib/warmpool-bench';
const HOST = 'bench-lxc';
const TEMPLATE = `bench-${randomBytes(3).toString('hex')}`;
/** Far above what the service hands out (lowest free address first, at most a few here). */
const DIRECT_IP = '10.231.40.250';
const RESOURCES: ResourceLimits = { network: 'isolated', memoryMb: 128, swapMb: 0 };
const WARM_READY = 2;
const STEP_TIMEOUT_MS = 120_000;

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (LXC hosts are driven as root)';
  for (const tool of ['lxc-create', 'lxc-copy', 'lxc-attach', 'lxc-destroy', 'nft', 'ip']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `needs ${tool} (LXC and nftables)`;
    }
  }
  return null;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

interface PoolStatus {
  ready: number;
  provisioning: number;
  recycling: number;
  retiring: number;
  failed: number;
  leased: number;
}

async function status(admin: Client, pool: string): Promise<PoolStatus> {
  return (await admin.expect([200], 'GET', `/v1/admin/pools/${pool}`)).status as PoolStatus;
}

/** Until the warm pool is full and nothing is being made or recycled anywhere (bounded). */
async function quiet(admin: Client): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const [warm, cold] = [await status(admin, 'warm'), await status(admin, 'ondemand')];
    const busy = (s: PoolStatus): boolean =>
      s.provisioning + s.recycling + s.retiring + s.leased > 0;
    if (warm.ready >= WARM_READY && !busy(warm) && !busy(cold)) return;
    if (Date.now() > deadline) {
      throw new Error(`the host did not settle: ${JSON.stringify({ warm, cold })}`);
    }
    await sleep(50);
  }
}

async function waitFor(what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5 * 60_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: timed out`);
    await sleep(200);
  }
}

/** Times every command the driver runs while `recording` is on. */
class RecordingRunner extends CommandRunner {
  readonly address = 'local';
  recording = false;
  readonly calls: { tool: string; ms: number }[] = [];

  constructor(private readonly inner: CommandRunner) {
    super();
  }

  async run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    const start = process.hrtime.bigint();
    try {
      return await this.inner.run(argv, options);
    } finally {
      if (this.recording) this.calls.push({ tool: argv[0], ms: msSince(start) });
    }
  }
}

interface Results {
  warm: number[];
  warmWaited: number;
  direct: number[];
  clone: number[];
  start: number[];
  health: number[];
  destroy: number[];
  service: number[];
  spawn: number[];
  commands: { tool: string; ms: number }[];
  buildMs: number;
  fillMs: number;
}

/** A lease's round trip and whether the service says it waited; then its release. */
async function lease(
  http: HttpWorker,
  token: string,
  pool: string,
  waitSeconds: number,
): Promise<{ ms: number; waited: boolean }> {
  const { ms, body } = await http.time({
    method: 'POST',
    path: '/v1/leases',
    token,
    body: { pool, waitSeconds, ttlSeconds: 600 },
    expect: [201],
  });
  await http.time({
    method: 'DELETE',
    path: `/v1/leases/${body.id as string}`,
    token,
    expect: [200],
  });
  return { ms, waited: (body.waitedMs as number) > 0 };
}

async function run(t: TestApp, http: HttpWorker): Promise<Results> {
  const admin = new Client(await t.app.getUrl()).withToken(ADMIN_TOKEN);
  await admin.expect([201], 'PUT', `/v1/admin/hosts/${HOST}`, {
    driver: 'lxc',
    address: 'local',
    subnet: SUBNET,
    maxContainers: 16,
    maxConcurrentProvisions: 4,
    options: { lxcPath: LXC_PATH, bridge: BRIDGE },
  });
  const buildStart = process.hrtime.bigint();
  await admin.expect([201], 'PUT', `/v1/admin/templates/${TEMPLATE}`, {
    driver: 'lxc',
    source: { lxcTemplate: 'busybox' },
    setup: [],
  });
  await waitFor('golden build', async () => {
    const tpl = await admin.expect([200], 'GET', `/v1/admin/templates/${TEMPLATE}`);
    if (tpl.state === 'failed') throw new Error(`golden build failed: ${String(tpl.error)}`);
    return tpl.state === 'ready';
  });
  const buildMs = msSince(buildStart);
  console.error(`golden ${goldenName(TEMPLATE, 1)} built in ${fmtMs(buildMs)}`);

  const fillStart = process.hrtime.bigint();
  const pool = { template: TEMPLATE, resources: RESOURCES, scaleDownDelaySeconds: 0 };
  await admin.expect([201], 'PUT', '/v1/admin/pools/warm', {
    ...pool,
    minReady: WARM_READY,
    maxReady: WARM_READY,
    maxTotal: 6,
  });
  await admin.expect([201], 'PUT', '/v1/admin/pools/ondemand', {
    ...pool,
    minReady: 0,
    maxReady: 0,
    maxTotal: 4,
  });
  const tenantBody = await admin.expect([201], 'POST', '/v1/admin/tenants', {
    name: 'bench',
    maxConcurrentContainers: 16,
  });
  const token = tenantBody.token as string;
  await quiet(admin);
  const fillMs = msSince(fillStart);

  const subnet = parseSubnet(SUBNET);
  const runner = new RecordingRunner(createCommandRunner('local', {}));
  const target: HostTarget = {
    name: HOST,
    address: 'local',
    options: { lxcPath: LXC_PATH, bridge: BRIDGE },
    subnet: subnet.cidr,
    gateway: gatewayOf(subnet),
    prefixLength: subnet.prefixLength,
    runner,
  };
  const driver = new LxcDriver();
  const golden = goldenName(TEMPLATE, 1);
  if (!lxcLs(LXC_PATH).includes(golden)) throw new Error(`no golden ${golden} in ${LXC_PATH}`);

  const r: Results = {
    warm: [],
    warmWaited: 0,
    direct: [],
    clone: [],
    start: [],
    health: [],
    destroy: [],
    service: [],
    spawn: [],
    commands: runner.calls,
    buildMs,
    fillMs,
  };
  const steps: ((record: boolean) => Promise<void>)[] = [
    async (record) => {
      const { ms, waited } = await lease(http, token, 'warm', 30);
      if (!record) return;
      if (waited) r.warmWaited++;
      r.warm.push(ms);
    },
    async (record) => {
      const spec: ContainerSpec = {
        name: `wp-bench-${randomBytes(4).toString('hex')}`,
        golden,
        resources: RESOURCES,
        ip: DIRECT_IP,
      };
      try {
        runner.recording = record;
        const clone = await timed(() => driver.clone(target, spec));
        const start = await timed(() => driver.start(target, spec));
        const health = await timed(() => driver.healthcheck(target, spec.name));
        runner.recording = false;
        if (record) {
          r.clone.push(clone.ms);
          r.start.push(start.ms);
          r.health.push(health.ms);
          r.direct.push(clone.ms + start.ms + health.ms);
        }
      } finally {
        runner.recording = false;
        const destroy = await timed(() => driver.destroy(target, spec.name));
        if (record) r.destroy.push(destroy.ms);
      }
    },
    async (record) => {
      // The floor under every driver step: one process through the same CommandRunner.
      for (let i = 0; i < 3; i++) {
        const { ms } = await timed(() => runner.run(['true']));
        if (record) r.spawn.push(ms);
      }
    },
    async (record) => {
      const { ms } = await lease(http, token, 'ondemand', 60);
      if (record) r.service.push(ms);
    },
  ];
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    const record = round >= WARMUP_ROUNDS;
    for (let k = 0; k < steps.length; k++) {
      await quiet(admin);
      await steps[(round + k) % steps.length](record);
    }
    if (record) console.error(`round ${round - WARMUP_ROUNDS + 1}/${ROUNDS}`);
  }
  return r;
}

/** Through the service first (as the e2e suite does), then by hand whatever is left. */
async function cleanUp(t: TestApp | undefined): Promise<string[]> {
  if (t) {
    try {
      const admin = new Client(await t.app.getUrl()).withToken(ADMIN_TOKEN);
      for (const pool of ['warm', 'ondemand']) {
        await admin.expect([204, 404], 'DELETE', `/v1/admin/pools/${pool}?force=true`);
      }
      await waitFor('containers destroyed', async () => {
        await t.reconcile();
        const live = await admin.expect([200], 'GET', `/v1/admin/containers?host=${HOST}`);
        return (live.items as { state: string }[]).every((c) => c.state === 'destroyed');
      });
      await admin.expect([204, 404], 'DELETE', `/v1/admin/templates/${TEMPLATE}`);
      await waitFor('golden removed', async () => {
        await t.reconcile();
        return !lxcLs(LXC_PATH).some((n) => n.startsWith(`wpt-${TEMPLATE}-`));
      });
      await admin.expect([204, 404], 'DELETE', `/v1/admin/hosts/${HOST}`);
    } catch (err) {
      console.error(`cleanup through the service failed: ${(err as Error).message}`);
    }
    await t.close();
  }
  let leftovers: string[] = [];
  try {
    leftovers = lxcLs(LXC_PATH);
  } catch {
    // the path is already gone
  }
  removeLxcLeftovers(LXC_PATH, BRIDGE);
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  if (links.includes(` ${BRIDGE}:`) || tables.includes(nftTableName(BRIDGE))) {
    leftovers.push(`bridge ${BRIDGE} or its nft tables`);
  }
  return leftovers;
}

function report(r: Results): string {
  const warm = summarize(r.warm);
  const direct = summarize(r.direct);
  const service = summarize(r.service);
  const spawn = summarize(r.spawn);
  const row = (label: string, s: Summary, ratio: string): string[] => [
    label,
    String(s.n),
    fmtMs(s.median),
    fmtMs(s.p99),
    ratio,
  ];
  const steps = ['clone', 'start', 'health'] as const;
  const table = markdownTable(
    ['path (real LXC, busybox, isolated network, 128 MiB limit)', 'n', 'median', 'p99', 'ratio'],
    [
      row(`**warm lease** through the service (${r.warmWaited} of ${warm.n} waited)`, warm, '1×'),
      row(
        '**on demand, LxcDriver directly**: clone + start + health check',
        direct,
        `**${fmtRatio(pairedRatio(r.direct, r.warm))}** the warm lease`,
      ),
      ...steps.map((step) => row(`&nbsp;&nbsp;of which ${step}`, summarize(r[step]), '')),
      row(
        '**on demand through the service** (pool minReady 0, the lease waits)',
        service,
        `**${fmtRatio(pairedRatio(r.service, r.warm))}** the warm lease`,
      ),
      row('(destroy after each direct clone, not counted above)', summarize(r.destroy), ''),
      row('floor: one process (`true`) through the same CommandRunner', spawn, ''),
    ],
  );

  const byTool = new Map<string, number[]>();
  for (const call of r.commands) byTool.set(call.tool, [...(byTool.get(call.tool) ?? []), call.ms]);
  const perContainer = (n: number): string => (n / Math.max(1, direct.n)).toFixed(1);
  const tools = [...byTool]
    .map(([tool, ms]) => ({ tool, ms, total: ms.reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total);
  const commands = markdownTable(
    ['command run by the driver', 'runs per container', 'median each', 'time per container'],
    tools.map(({ tool, ms, total }) => [
      `\`${tool}\``,
      perContainer(ms.length),
      fmtMs(summarize(ms).median),
      fmtMs(total / Math.max(1, direct.n)),
    ]),
  );
  return [
    `### Warm lease vs on-demand container — LXC, ${BACKEND === 'postgres' ? 'PostgreSQL + Redis' : 'embedded PGlite'}`,
    '',
    `<sub>${machineLine()} · golden build ${fmtMs(r.buildMs)} · first fill of ${WARM_READY}: ${fmtMs(r.fillMs)}</sub>`,
    '',
    table,
    '',
    `Ratios are medians of per-round ratios (${ROUNDS} rounds, the paths interleaved in a rotating`,
    `order, each from a quiet host); with ${ROUNDS} samples the p99 is the worst one or close to it.`,
    '',
    `Where the on-demand path goes: ${perContainer(r.commands.length)} commands per container, ` +
      `each at least one process start (${fmtMs(spawn.median)} here).`,
    '',
    commands,
  ].join('\n');
}

async function main(): Promise<void> {
  const skip = skipReason();
  if (skip) {
    console.log(`cold.bench: skipped — ${skip}`);
    return;
  }
  removeLxcLeftovers(LXC_PATH, BRIDGE);
  let t: TestApp | undefined;
  let results: Results | undefined;
  let failure: unknown = null;
  // Nest's shutdown hooks also listen: they close the app and send SIGINT again, which must
  // land here (not kill the process) until what we created is gone.
  let interrupted: Promise<void> | null = null;
  const onSigint = (): void => {
    interrupted ??= (async () => {
      console.error('interrupted: removing what the benchmark created');
      await t?.close().catch(() => undefined);
      removeLxcLeftovers(LXC_PATH, BRIDGE);
      process.exit(130);
    })();
  };
  process.on('SIGINT', onSigint);
  try {
    t = await startTestApp(BACKEND, {
      env: {
        WARMPOOL_RECONCILER_ENABLED: 'true',
        WARMPOOL_RECONCILE_INTERVAL_MS: '1000',
        // The driver's own clones (wp-bench-…) are not the service's: keep the orphan scan off them.
        WARMPOOL_ORPHAN_SCAN_INTERVAL_MS: '3600000',
      },
    });
    const http = HttpWorker.start(await t.app.getUrl());
    try {
      results = await run(t, http);
    } finally {
      await http.close();
    }
  } catch (err) {
    failure = err;
  }
  if (interrupted) return interrupted;
  const leftovers = await cleanUp(t);
  process.off('SIGINT', onSigint);
  if (leftovers.length > 0) console.error(`cleaned up by hand: ${leftovers.join(', ')}`);
  if (failure) throw failure;
  const markdown = report(results!);
  console.log(markdown);
  console.error(
    `written to ${writeResult(BACKEND === 'postgres' ? 'cold-postgres' : 'cold', markdown)}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

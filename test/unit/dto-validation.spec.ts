import 'reflect-metadata';
import { ArgumentMetadata } from '@nestjs/common';
import { ClassConstructor, plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import { FieldProblem, ValidationFailedError } from '../../src/common/errors';
import {
  flattenValidationErrors,
  strictValidationPipe,
  validationFailed,
} from '../../src/common/validation';
import { PatchHostDto, PutHostDto } from '../../src/hosts/dto/host.dto';
import { hostConfigProblems } from '../../src/hosts/host-options';
import {
  CreateLeaseDto,
  ExecDto,
  ListLeasesQuery,
  RenewLeaseDto,
} from '../../src/leases/dto/lease.dto';
import { PatchPoolDto, PutPoolDto } from '../../src/pools/dto/pool.dto';
import { PutTemplateDto } from '../../src/templates/dto/template.dto';
import { CreateTenantDto, PatchTenantDto } from '../../src/tenants/dto/tenant.dto';

async function problemsOf<T extends object>(
  cls: ClassConstructor<T>,
  body: unknown,
): Promise<FieldProblem[]> {
  const dto = plainToInstance(cls, body) as T;
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
  return flattenValidationErrors(errors);
}

async function badFields<T extends object>(
  cls: ClassConstructor<T>,
  body: unknown,
): Promise<string[]> {
  return (await problemsOf(cls, body)).map((p) => p.field);
}

const UUID = '3f9c2a1b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const labels = (n: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]));

describe('CreateLeaseDto', () => {
  const ok = { pool: 'default' };

  it('accepts the API.md example', async () => {
    const body = {
      pool: 'default',
      count: 1,
      ttlSeconds: 3600,
      waitSeconds: 30,
      priority: 5,
      labels: { build: '1234' },
    };
    expect(await problemsOf(CreateLeaseDto, body)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['pool only', {}],
    ['a one-character pool', { pool: '0' }],
    ['a 63-character pool', { pool: `a${'b'.repeat(62)}` }],
    ['count 1', { count: 1 }],
    ['count 32', { count: 32 }],
    ['waitSeconds 0', { waitSeconds: 0 }],
    ['waitSeconds 600', { waitSeconds: 600 }],
    ['priority 0', { priority: 0 }],
    ['priority 9', { priority: 9 }],
    ['ttlSeconds 1', { ttlSeconds: 1 }],
    ['16 labels', { labels: labels(16) }],
    ['empty labels', { labels: {} }],
    ['a label key with . _ - /', { labels: { 'ci.example.com/build_id-2': 'x' } }],
    ['a 63-character label key', { labels: { [`a${'b'.repeat(62)}`]: 'x' } }],
    ['a 256-character label value', { labels: { k: 'v'.repeat(256) } }],
    ['an empty label value', { labels: { k: '' } }],
  ])('accepts %s', async (_name, patch) => {
    expect(await problemsOf(CreateLeaseDto, { ...ok, ...patch })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a missing pool', { pool: undefined }, 'pool'],
    ['an upper-case pool', { pool: 'Default' }, 'pool'],
    ['a pool starting with -', { pool: '-x' }, 'pool'],
    ['a pool with _', { pool: 'a_b' }, 'pool'],
    ['a 64-character pool', { pool: `a${'b'.repeat(63)}` }, 'pool'],
    ['an empty pool', { pool: '' }, 'pool'],
    ['a numeric pool', { pool: 7 }, 'pool'],
    ['count 0', { count: 0 }, 'count'],
    ['count 33', { count: 33 }, 'count'],
    ['count 1.5', { count: 1.5 }, 'count'],
    ['count as a string', { count: '3' }, 'count'],
    ['waitSeconds -1', { waitSeconds: -1 }, 'waitSeconds'],
    ['waitSeconds 601', { waitSeconds: 601 }, 'waitSeconds'],
    ['priority -1', { priority: -1 }, 'priority'],
    ['priority 10', { priority: 10 }, 'priority'],
    ['ttlSeconds 0', { ttlSeconds: 0 }, 'ttlSeconds'],
    ['17 labels', { labels: labels(17) }, 'labels'],
    ['a numeric label value', { labels: { build: 1234 } }, 'labels'],
    ['a nested label value', { labels: { build: { id: '1' } } }, 'labels'],
    ['a null label value', { labels: { build: null } }, 'labels'],
    ['a label key starting with .', { labels: { '.x': 'y' } }, 'labels'],
    ['a label key with a space', { labels: { 'a b': 'y' } }, 'labels'],
    ['a label key with :', { labels: { 'a:b': 'y' } }, 'labels'],
    ['an empty label key', { labels: { '': 'y' } }, 'labels'],
    ['a 64-character label key', { labels: { [`a${'b'.repeat(63)}`]: 'x' } }, 'labels'],
    ['a 257-character label value', { labels: { k: 'v'.repeat(257) } }, 'labels'],
    ['labels as an array', { labels: ['a'] }, 'labels'],
    ['labels as a string', { labels: 'build=1' }, 'labels'],
    ['an unknown field', { tenant: 'other' }, 'tenant'],
  ])('rejects %s on %s', async (_name, patch, field) => {
    expect(await badFields(CreateLeaseDto, { ...ok, ...patch })).toEqual([field]);
  });

  it('names every bad field at once', async () => {
    const fields = await badFields(CreateLeaseDto, { pool: 'X', count: 0, priority: 11, x: 1 });
    expect(fields.sort()).toEqual(['count', 'pool', 'priority', 'x']);
  });
});

describe('RenewLeaseDto', () => {
  it.each([1, 600, 2_592_000])('accepts ttlSeconds %p', async (ttlSeconds) => {
    expect(await problemsOf(RenewLeaseDto, { ttlSeconds })).toEqual([]);
  });

  it.each([undefined, 0, -5, 2_592_001, 1.5, '600', null])(
    'rejects ttlSeconds %p',
    async (ttlSeconds) => {
      expect(await badFields(RenewLeaseDto, { ttlSeconds })).toEqual(['ttlSeconds']);
    },
  );

  it('rejects unknown fields', async () => {
    expect(await badFields(RenewLeaseDto, { ttlSeconds: 5, state: 'active' })).toEqual(['state']);
  });
});

describe('ExecDto', () => {
  const ok = { command: ['sh', '-c', 'make test'] };

  it('accepts the API.md example', async () => {
    const body = {
      container: UUID,
      command: ['sh', '-c', 'make test'],
      env: { CI: 'true' },
      timeoutSeconds: 600,
      stdin: 'optional text',
    };
    expect(await problemsOf(ExecDto, body)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['one argv item', { command: ['true'] }],
    ['256 argv items', { command: Array.from({ length: 256 }, () => 'x') }],
    ['an empty later argument', { command: ['echo', ''] }],
    ['shell metacharacters as plain words', { command: ['echo', '$(rm -rf /); `x` | y'] }],
    ['an argument of 131072 characters', { command: ['echo', 'a'.repeat(131_072)] }],
    ['env names with _ and digits', { env: { _A1: 'x', PATH: '/bin', lower_case: '' } }],
    ['an empty env', { env: {} }],
    ['timeoutSeconds 1', { timeoutSeconds: 1 }],
    ['timeoutSeconds 86400', { timeoutSeconds: 86_400 }],
    ['stdin of 1 MiB', { stdin: 'a'.repeat(1_048_576) }],
    ['empty stdin', { stdin: '' }],
  ])('accepts %s', async (_name, patch) => {
    expect(await problemsOf(ExecDto, { ...ok, ...patch })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a missing command', { command: undefined }, 'command'],
    ['an empty argv', { command: [] }, 'command'],
    ['257 argv items', { command: Array.from({ length: 257 }, () => 'x') }, 'command'],
    ['an empty first word', { command: ['', 'x'] }, 'command'],
    ['a NUL in an argument', { command: ['echo', 'a\0b'] }, 'command'],
    ['a NUL in the program', { command: ['sh\0'] }, 'command'],
    ['a number in argv', { command: ['sleep', 5] }, 'command'],
    ['a shell string instead of argv', { command: 'make test' }, 'command'],
    ['an argument of 131073 characters', { command: ['echo', 'a'.repeat(131_073)] }, 'command'],
    ['an env name starting with a digit', { env: { '1A': 'x' } }, 'env'],
    ['an env name with -', { env: { 'A-B': 'x' } }, 'env'],
    ['an env name with =', { env: { 'A=B': 'x' } }, 'env'],
    ['an empty env name', { env: { '': 'x' } }, 'env'],
    ['a numeric env value', { env: { A: 1 } }, 'env'],
    ['env as an array', { env: ['A=1'] }, 'env'],
    ['129 env entries', { env: labels(129) }, 'env'],
    ['timeoutSeconds 0', { timeoutSeconds: 0 }, 'timeoutSeconds'],
    ['timeoutSeconds 86401', { timeoutSeconds: 86_401 }, 'timeoutSeconds'],
    ['stdin over 1 MiB', { stdin: 'a'.repeat(1_048_577) }, 'stdin'],
    ['stdin not a string', { stdin: 42 }, 'stdin'],
    ['a container that is not a UUID', { container: 'wp-3f9c2a1b' }, 'container'],
    ['an unknown field', { shell: true }, 'shell'],
  ])('rejects %s on %s', async (_name, patch, field) => {
    expect(await badFields(ExecDto, { ...ok, ...patch })).toEqual([field]);
  });
});

describe('ListLeasesQuery', () => {
  it('turns one label into a list of one', async () => {
    const dto = plainToInstance(ListLeasesQuery, { label: 'build:1234' });
    expect(dto.label).toEqual(['build:1234']);
    expect(await validate(dto, { whitelist: true, forbidNonWhitelisted: true })).toEqual([]);
  });

  it('converts limit from the query string', () => {
    expect(plainToInstance(ListLeasesQuery, { limit: '10' }).limit).toBe(10);
  });

  it.each<[string, Record<string, unknown>]>([
    ['nothing', {}],
    ['state and pool', { state: 'active', pool: 'default' }],
    ['several labels', { label: ['build:1', 'branch:main'] }],
    ['a label with an empty value', { label: 'build:' }],
    ['a label value with colons', { label: 'url:https://x:8080/' }],
    ['16 labels', { label: Array.from({ length: 16 }, (_, i) => `k${i}:v`) }],
    ['limit 500 and a cursor', { limit: '500', cursor: 'abc' }],
  ])('accepts %s', async (_name, query) => {
    expect(await problemsOf(ListLeasesQuery, query)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a label without a colon', { label: 'build' }, 'label'],
    ['a label without a key', { label: ':1234' }, 'label'],
    ['one bad label among good ones', { label: ['a:b', 'nocolon'] }, 'label'],
    ['17 labels', { label: Array.from({ length: 17 }, (_, i) => `k${i}:v`) }, 'label'],
    ['an unknown state', { state: 'leased' }, 'state'],
    ['a bad pool', { pool: 'Default' }, 'pool'],
    ['limit 0', { limit: '0' }, 'limit'],
    ['limit 501', { limit: '501' }, 'limit'],
    ['limit abc', { limit: 'abc' }, 'limit'],
    ['a 513-character cursor', { cursor: 'c'.repeat(513) }, 'cursor'],
    ['an unknown parameter', { tenant: 'x' }, 'tenant'],
  ])('rejects %s on %s', async (_name, query, field) => {
    expect(await badFields(ListLeasesQuery, query)).toEqual([field]);
  });
});

describe('PutPoolDto', () => {
  const full = {
    template: 'busybox',
    resources: {
      cpus: 2,
      memoryMb: 2048,
      swapMb: 0,
      diskMb: 10240,
      cpuLimitPercent: 200,
      iops: 0,
      network: 'isolated',
    },
    minReady: 5,
    maxReady: 50,
    maxTotal: 100,
    defaultLeaseSeconds: 3600,
    maxLeaseSeconds: 21600,
    maxIdleSeconds: 86400,
    scaleDownDelaySeconds: 300,
    recycle: 'destroy',
    schedules: [
      { cron: '0 8 * * 1-5', durationMinutes: 600, timezone: 'Europe/London', minReady: 40 },
    ],
    predictive: { enabled: true, targetWaitProbability: 0.01, windowMinutes: 60, seasonalDays: 7 },
  };
  const schedule = { cron: '0 8 * * 1-5', durationMinutes: 600, minReady: 40 };

  it('accepts the API.md example', async () => {
    expect(await problemsOf(PutPoolDto, full)).toEqual([]);
  });

  it('builds nested DTO instances', () => {
    const dto = plainToInstance(PutPoolDto, full);
    expect(dto.resources?.constructor.name).toBe('ResourcesDto');
    expect(dto.schedules?.[0].constructor.name).toBe('ScheduleDto');
    expect(dto.predictive?.constructor.name).toBe('PredictiveDto');
  });

  it.each<[string, Record<string, unknown>]>([
    ['the template alone', {}],
    ['network shared', { resources: { network: 'shared' } }],
    ['network none', { resources: { network: 'none' } }],
    ['recycle reset', { recycle: 'reset' }],
    ['a schedule without timezone', { schedules: [schedule] }],
    ['a 6-field schedule', { schedules: [{ ...schedule, cron: '0 0 8 * * 1-5' }] }],
    ['a UTC schedule', { schedules: [{ ...schedule, timezone: 'UTC' }] }],
    ['an empty schedule list', { schedules: [] }],
    ['50 schedules', { schedules: Array.from({ length: 50 }, () => schedule) }],
    ['predictive with only enabled', { predictive: { enabled: false } }],
    ['minReady 0', { minReady: 0, maxReady: 0, maxTotal: 0 }],
    ['scaleDownDelaySeconds 0', { scaleDownDelaySeconds: 0 }],
  ])('accepts %s', async (_name, patch) => {
    expect(await problemsOf(PutPoolDto, { template: 'busybox', ...patch })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['a missing template', { template: undefined }, ['template']],
    ['a bad template name', { template: 'Bad Name' }, ['template']],
    ['an unknown field', { color: 'blue' }, ['color']],
    ['negative minReady', { minReady: -1 }, ['minReady']],
    ['fractional maxReady', { maxReady: 1.5 }, ['maxReady']],
    ['maxTotal above 100000', { maxTotal: 100_001 }, ['maxTotal']],
    ['defaultLeaseSeconds 0', { defaultLeaseSeconds: 0 }, ['defaultLeaseSeconds']],
    ['maxIdleSeconds 0', { maxIdleSeconds: 0 }, ['maxIdleSeconds']],
    ['scaleDownDelaySeconds -1', { scaleDownDelaySeconds: -1 }, ['scaleDownDelaySeconds']],
    ['recycle keep', { recycle: 'keep' }, ['recycle']],
    ['network bridged', { resources: { network: 'bridged' } }, ['resources.network']],
    ['memoryMb 8', { resources: { memoryMb: 8 } }, ['resources.memoryMb']],
    ['cpus 0', { resources: { cpus: 0 } }, ['resources.cpus']],
    ['cpus 257', { resources: { cpus: 257 } }, ['resources.cpus']],
    ['cpuLimitPercent 0', { resources: { cpuLimitPercent: 0 } }, ['resources.cpuLimitPercent']],
    ['negative swapMb', { resources: { swapMb: -1 } }, ['resources.swapMb']],
    ['iops as a string', { resources: { iops: '100' } }, ['resources.iops']],
    ['an unknown resource', { resources: { gpus: 1 } }, ['resources.gpus']],
    ['resources as a string', { resources: 'big' }, ['resources']],
    ['a bad cron', { schedules: [{ ...schedule, cron: 'every morning' }] }, ['schedules.0.cron']],
    [
      'a 7-field cron',
      { schedules: [{ ...schedule, cron: '0 0 8 * * 1-5 2024' }] },
      ['schedules.0.cron'],
    ],
    [
      'an out-of-range cron',
      { schedules: [{ ...schedule, cron: '0 25 * * *' }] },
      ['schedules.0.cron'],
    ],
    [
      'a cron that is not a string',
      { schedules: [{ ...schedule, cron: 8 }] },
      ['schedules.0.cron'],
    ],
    [
      'durationMinutes 0',
      { schedules: [{ ...schedule, durationMinutes: 0 }] },
      ['schedules.0.durationMinutes'],
    ],
    [
      'durationMinutes over a week',
      { schedules: [{ ...schedule, durationMinutes: 10_081 }] },
      ['schedules.0.durationMinutes'],
    ],
    [
      'a schedule without minReady',
      { schedules: [{ cron: '0 8 * * *', durationMinutes: 5 }] },
      ['schedules.0.minReady'],
    ],
    [
      'an unknown schedule field',
      { schedules: [{ ...schedule, days: 'weekdays' }] },
      ['schedules.0.days'],
    ],
    [
      'a bad second schedule',
      { schedules: [schedule, { ...schedule, minReady: -1 }] },
      ['schedules.1.minReady'],
    ],
    ['51 schedules', { schedules: Array.from({ length: 51 }, () => schedule) }, ['schedules']],
    ['predictive without enabled', { predictive: { windowMinutes: 60 } }, ['predictive.enabled']],
    ['predictive enabled "yes"', { predictive: { enabled: 'yes' } }, ['predictive.enabled']],
    [
      'targetWaitProbability 0',
      { predictive: { enabled: true, targetWaitProbability: 0 } },
      ['predictive.targetWaitProbability'],
    ],
    [
      'targetWaitProbability 0.6',
      { predictive: { enabled: true, targetWaitProbability: 0.6 } },
      ['predictive.targetWaitProbability'],
    ],
    [
      'windowMinutes 4',
      { predictive: { enabled: true, windowMinutes: 4 } },
      ['predictive.windowMinutes'],
    ],
    [
      'seasonalDays 29',
      { predictive: { enabled: true, seasonalDays: 29 } },
      ['predictive.seasonalDays'],
    ],
    [
      'an unknown predictive field',
      { predictive: { enabled: true, model: 'arima' } },
      ['predictive.model'],
    ],
  ])('rejects %s on %j', async (_name, patch, fields) => {
    expect(await badFields(PutPoolDto, { template: 'busybox', ...patch })).toEqual(fields);
  });

  it('rejects a bad timezone on the timezone (and so the cron cannot be checked either)', async () => {
    const fields = await badFields(PutPoolDto, {
      template: 'busybox',
      schedules: [{ ...schedule, timezone: 'Mars/Olympus' }],
    });
    expect(fields).toContain('schedules.0.timezone');
    expect(fields.every((f) => f.startsWith('schedules.0.'))).toBe(true);
  });

  it.each(['Europe/London', 'America/New_York', 'Asia/Kolkata', 'UTC'])(
    'accepts the timezone %s',
    async (timezone) => {
      const body = { template: 'busybox', schedules: [{ ...schedule, timezone }] };
      expect(await problemsOf(PutPoolDto, body)).toEqual([]);
    },
  );

  it.each(['', '* * * *'])('rejects the cron %j (not 5 or 6 fields)', async (cron) => {
    const body = { template: 'busybox', schedules: [{ ...schedule, cron }] };
    expect(await badFields(PutPoolDto, body)).toEqual(['schedules.0.cron']);
  });

  it('explains a bad cron and a bad timezone', async () => {
    const problems = await problemsOf(PutPoolDto, {
      template: 'busybox',
      schedules: [{ ...schedule, cron: 'nope', timezone: 'Nowhere/Land' }],
    });
    const byField = Object.fromEntries(problems.map((p) => [p.field, p.problems.join(' ')]));
    expect(byField['schedules.0.cron']).toMatch(/cron/);
    expect(byField['schedules.0.timezone']).toMatch(/IANA time zone/);
  });
});

describe('PatchPoolDto', () => {
  it.each<[string, Record<string, unknown>]>([
    ['an empty patch', {}],
    ['one field', { minReady: 3 }],
    ['one resource', { resources: { memoryMb: 512 } }],
    ['the template', { template: 'other' }],
  ])('accepts %s', async (_name, body) => {
    expect(await problemsOf(PatchPoolDto, body)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown field', { junk: 1 }, 'junk'],
    ['a bad network', { resources: { network: 'bridged' } }, 'resources.network'],
    ['a bad recycle', { recycle: 'keep' }, 'recycle'],
    [
      'a bad cron',
      { schedules: [{ cron: 'x', durationMinutes: 5, minReady: 1 }] },
      'schedules.0.cron',
    ],
    ['negative maxTotal', { maxTotal: -1 }, 'maxTotal'],
  ])('rejects %s on %s', async (_name, body, field) => {
    expect(await badFields(PatchPoolDto, body)).toEqual([field]);
  });
});

describe('PutTemplateDto', () => {
  it.each<[string, Record<string, unknown>]>([
    [
      'the API.md example',
      {
        driver: 'lxc',
        source: { lxcTemplate: 'busybox' },
        setup: [['sh', '-c', 'echo ready > /etc/motd']],
      },
    ],
    ['a sim template without source', { driver: 'sim' }],
    ['auto', { driver: 'auto', source: { lxcTemplate: 'busybox' } }],
    ['an lxc rootfs', { driver: 'lxc', source: { rootfs: '/srv/rootfs/base-1.2' } }],
    ['an openvz ostemplate', { driver: 'openvz', source: { ostemplate: 'centos-7-x86_64' } }],
    ['an empty setup', { driver: 'lxc', setup: [] }],
    ['64 setup commands', { driver: 'lxc', setup: Array.from({ length: 64 }, () => ['true']) }],
  ])('accepts %s', async (_name, body) => {
    expect(await problemsOf(PutTemplateDto, body)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a missing driver', {}, 'driver'],
    ['an unknown driver', { driver: 'docker' }, 'driver'],
    [
      'an lxcTemplate with /',
      { driver: 'lxc', source: { lxcTemplate: '../busybox' } },
      'source.lxcTemplate',
    ],
    [
      'an upper-case lxcTemplate',
      { driver: 'lxc', source: { lxcTemplate: 'Busybox' } },
      'source.lxcTemplate',
    ],
    ['a relative rootfs', { driver: 'lxc', source: { rootfs: 'srv/rootfs' } }, 'source.rootfs'],
    ['a rootfs with ..', { driver: 'lxc', source: { rootfs: '/srv/../etc' } }, 'source.rootfs'],
    [
      'a rootfs with a space',
      { driver: 'lxc', source: { rootfs: '/srv/my rootfs' } },
      'source.rootfs',
    ],
    [
      'a rootfs of 513 characters',
      { driver: 'lxc', source: { rootfs: `/${'a'.repeat(512)}` } },
      'source.rootfs',
    ],
    [
      'an ostemplate starting with -',
      { driver: 'openvz', source: { ostemplate: '-centos' } },
      'source.ostemplate',
    ],
    ['an unknown source field', { driver: 'lxc', source: { image: 'x' } }, 'source.image'],
    ['setup as one argv', { driver: 'lxc', setup: ['sh', '-c', 'x'] }, 'setup'],
    ['setup with an empty argv', { driver: 'lxc', setup: [['true'], []] }, 'setup'],
    ['setup with an empty program', { driver: 'lxc', setup: [['', 'x']] }, 'setup'],
    ['setup with a NUL', { driver: 'lxc', setup: [['echo', 'a\0']] }, 'setup'],
    [
      '65 setup commands',
      { driver: 'lxc', setup: Array.from({ length: 65 }, () => ['true']) },
      'setup',
    ],
    ['setup as a shell string', { driver: 'lxc', setup: 'make' }, 'setup'],
    ['an unknown field', { driver: 'lxc', version: 3 }, 'version'],
  ])('rejects %s on %s', async (_name, body, field) => {
    expect(await badFields(PutTemplateDto, body)).toEqual([field]);
  });
});

describe('PutHostDto / PatchHostDto', () => {
  it.each<[string, Record<string, unknown>]>([
    ['a driver alone', { driver: 'sim' }],
    [
      'the API.md example',
      {
        driver: 'lxc',
        address: 'ssh://root@node7:22',
        maxContainers: 200,
        maxConcurrentProvisions: 4,
        subnet: '10.88.0.0/22',
        options: { lxcPath: '/var/lib/lxc' },
      },
    ],
    ['maxContainers 1', { driver: 'auto', maxContainers: 1 }],
    ['maxConcurrentProvisions 256', { driver: 'openvz', maxConcurrentProvisions: 256 }],
  ])('PUT accepts %s', async (_name, body) => {
    expect(await problemsOf(PutHostDto, body)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a missing driver', {}, 'driver'],
    ['an unknown driver', { driver: 'kvm' }, 'driver'],
    ['maxContainers 0', { driver: 'sim', maxContainers: 0 }, 'maxContainers'],
    [
      'maxConcurrentProvisions 257',
      { driver: 'sim', maxConcurrentProvisions: 257 },
      'maxConcurrentProvisions',
    ],
    ['a subnet without prefix', { driver: 'sim', subnet: '10.88.0.0' }, 'subnet'],
    ['an IPv6 subnet', { driver: 'sim', subnet: 'fd00::/64' }, 'subnet'],
    ['options as a string', { driver: 'sim', options: 'fast' }, 'options'],
    ['an address of 301 characters', { driver: 'sim', address: 'a'.repeat(301) }, 'address'],
    ['a state on PUT', { driver: 'sim', state: 'draining' }, 'state'],
  ])('PUT rejects %s on %s', async (_name, body, field) => {
    expect(await badFields(PutHostDto, body)).toEqual([field]);
  });

  it.each(['active', 'draining', 'disabled'])('PATCH accepts state %s', async (state) => {
    expect(await problemsOf(PatchHostDto, { state })).toEqual([]);
  });

  it('PATCH accepts an empty body', async () => {
    expect(await problemsOf(PatchHostDto, {})).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown state', { state: 'down' }, 'state'],
    ['a bad subnet', { subnet: '10.88.0.0/x' }, 'subnet'],
    ['an unknown field', { name: 'other' }, 'name'],
  ])('PATCH rejects %s on %s', async (_name, body, field) => {
    expect(await badFields(PatchHostDto, body)).toEqual([field]);
  });
});

describe('CreateTenantDto / PatchTenantDto', () => {
  it.each([
    { name: 'ci', maxConcurrentContainers: 50 },
    { name: 'ci', maxConcurrentContainers: 0 },
    { name: 'team-7', maxConcurrentContainers: 100_000 },
  ])('accepts %j', async (body) => {
    expect(await problemsOf(CreateTenantDto, body)).toEqual([]);
  });

  it.each<[Record<string, unknown>, string[]]>([
    [{ maxConcurrentContainers: 5 }, ['name']],
    [{ name: 'CI', maxConcurrentContainers: 5 }, ['name']],
    [{ name: 'ci' }, ['maxConcurrentContainers']],
    [{ name: 'ci', maxConcurrentContainers: -1 }, ['maxConcurrentContainers']],
    [{ name: 'ci', maxConcurrentContainers: 100_001 }, ['maxConcurrentContainers']],
    [{ name: 'ci', maxConcurrentContainers: 5, token: 'mine' }, ['token']],
  ])('rejects %j on %j', async (body, fields) => {
    expect(await badFields(CreateTenantDto, body)).toEqual(fields);
  });

  it('PATCH needs maxConcurrentContainers and nothing else', async () => {
    expect(await problemsOf(PatchTenantDto, { maxConcurrentContainers: 3 })).toEqual([]);
    expect(await badFields(PatchTenantDto, {})).toEqual(['maxConcurrentContainers']);
    expect(await badFields(PatchTenantDto, { maxConcurrentContainers: 3, name: 'x' })).toEqual([
      'name',
    ]);
  });
});

describe('hostConfigProblems', () => {
  const fields = (problems: { field: string }[]): string[] => problems.map((p) => p.field);

  it.each([
    'local',
    'ssh://root@node7',
    'ssh://root@node7:22',
    'ssh://deploy@10.0.0.5:2222',
    'ssh://root@[::1]:22',
    'ssh://ci_user@node-7.example.com',
  ])('accepts the address %s', (address) => {
    expect(hostConfigProblems('lxc', address, {})).toEqual([]);
  });

  it.each([
    'localhost',
    'node7',
    'http://root@node7',
    'ssh://node7',
    'ssh://root@node7:0',
    'ssh://root@node7:65536',
    'ssh://root@node7:22/path',
    'ssh://-oProxyCommand=x@node7',
    'ssh://root@-oProxyCommand=x',
    'ssh://root@node7 -p 1',
    'ssh://root@[fe80::1%eth0]',
    '',
  ])('rejects the address %j on address', (address) => {
    const problems = hostConfigProblems('lxc', address, {});
    expect(fields(problems)).toEqual(['address']);
    expect(problems[0].problems[0]).toMatch(/invalid host address/);
  });

  it.each<['sim' | 'lxc' | 'openvz' | 'auto', Record<string, unknown>]>([
    ['sim', { cloneMs: 50, startMs: 100, resetMs: 30, destroyMs: 20, failureRate: 0 }],
    ['sim', { buildMs: 0, cloneMs: 600_000, failureRate: 1 }],
    ['sim', { failureRate: 0.25 }],
    ['lxc', { lxcPath: '/var/lib/lxc', bridge: 'wpbr0' }],
    ['lxc', { bridge: 'a23456789012345' }],
    ['openvz', { tool: 'vzctl' }],
    ['openvz', { tool: 'prlctl', legacy: true }],
    ['openvz', { legacy: false }],
    ['auto', { cloneMs: 5, lxcPath: '/var/lib/lxc', tool: 'vzctl', legacy: false }],
    ['lxc', { sshKey: '/root/.ssh/id_ed25519', knownHosts: '/etc/warmpool/known_hosts' }],
    ['sim', { strictHostKeyChecking: 'accept-new' }],
    ['openvz', { strictHostKeyChecking: 'yes' }],
  ])('%s accepts the options %j', (driver, options) => {
    expect(hostConfigProblems(driver, 'ssh://root@node7', options)).toEqual([]);
  });

  it.each<['sim' | 'lxc' | 'openvz' | 'auto', Record<string, unknown>, string[]]>([
    ['lxc', { cloneMs: 5 }, ['options.cloneMs']],
    ['lxc', { tool: 'vzctl' }, ['options.tool']],
    ['openvz', { lxcPath: '/var/lib/lxc' }, ['options.lxcPath']],
    ['openvz', { failureRate: 0 }, ['options.failureRate']],
    ['sim', { lxcPath: '/var/lib/lxc' }, ['options.lxcPath']],
    ['sim', { bridge: 'br0' }, ['options.bridge']],
    ['auto', { gpu: true }, ['options.gpu']],
    ['sim', { cloneMs: -1 }, ['options.cloneMs']],
    ['sim', { startMs: 600_001 }, ['options.startMs']],
    ['sim', { resetMs: 1.5 }, ['options.resetMs']],
    ['sim', { destroyMs: '20' }, ['options.destroyMs']],
    ['sim', { buildMs: Infinity }, ['options.buildMs']],
    ['sim', { failureRate: -0.01 }, ['options.failureRate']],
    ['sim', { failureRate: 1.01 }, ['options.failureRate']],
    ['sim', { failureRate: '0.5' }, ['options.failureRate']],
    ['lxc', { lxcPath: 'var/lib/lxc' }, ['options.lxcPath']],
    ['lxc', { lxcPath: '/var/lib/../lxc' }, ['options.lxcPath']],
    ['lxc', { lxcPath: '/var/lib/lxc dir' }, ['options.lxcPath']],
    ['lxc', { lxcPath: 5 }, ['options.lxcPath']],
    // nft tables are named after the bridge: no '-'.
    ['lxc', { bridge: 'br-0' }, ['options.bridge']],
    ['lxc', { bridge: 'a234567890123456' }, ['options.bridge']],
    ['openvz', { tool: 'vzctl7' }, ['options.tool']],
    ['openvz', { legacy: 'yes' }, ['options.legacy']],
    ['sim', { strictHostKeyChecking: 'no' }, ['options']],
    ['lxc', { sshKey: 'id_rsa' }, ['options']],
    ['lxc', { knownHosts: '/etc/known hosts' }, ['options']],
    [
      'sim',
      { cloneMs: -1, failureRate: 2, colour: 'red' },
      ['options.cloneMs', 'options.failureRate', 'options.colour'],
    ],
  ])('%s rejects the options %j on %j', (driver, options, expected) => {
    expect(fields(hostConfigProblems(driver, 'local', options))).toEqual(expected);
  });

  it('names the driver in an unknown-option message', () => {
    const [problem] = hostConfigProblems('lxc', 'local', { cloneMs: 5 });
    expect(problem.problems[0]).toMatch(/cloneMs is not an option of the lxc driver/);
  });

  it('reports a bad address and bad options together', () => {
    expect(fields(hostConfigProblems('sim', 'nowhere', { cloneMs: -5 }))).toEqual([
      'address',
      'options.cloneMs',
    ]);
  });

  it('rejects a failureRate that is not a number at all (NaN, as YAML .nan gives)', () => {
    expect(fields(hostConfigProblems('sim', 'local', { failureRate: NaN }))).toEqual([
      'options.failureRate',
    ]);
  });
});

describe('flattenValidationErrors', () => {
  it('gives nested field paths', async () => {
    const problems = await problemsOf(PutPoolDto, {
      template: 'busybox',
      resources: { memoryMb: 1 },
      schedules: [
        { cron: '0 8 * * *', durationMinutes: 5, minReady: 1 },
        { cron: 'bad', durationMinutes: 5, minReady: 1 },
      ],
      predictive: { enabled: 1 },
    });
    expect(problems.map((p) => p.field).sort()).toEqual([
      'predictive.enabled',
      'resources.memoryMb',
      'schedules.1.cron',
    ]);
    for (const p of problems) expect(p.problems.length).toBeGreaterThan(0);
  });

  it('keeps every message of a field', async () => {
    const [problem] = await problemsOf(CreateLeaseDto, { pool: 'default', count: 'many' });
    expect(problem.field).toBe('count');
    expect(problem.problems).toHaveLength(3);
  });

  it('walks hand-built errors, skipping nodes without constraints', () => {
    const child = Object.assign(new ValidationError(), {
      property: 'cron',
      constraints: { isCron: 'bad cron' },
    });
    const index = Object.assign(new ValidationError(), { property: '0', children: [child] });
    const root = Object.assign(new ValidationError(), {
      property: 'schedules',
      constraints: { arrayMaxSize: 'too many' },
      children: [index],
    });
    expect(flattenValidationErrors([root])).toEqual([
      { field: 'schedules', problems: ['too many'] },
      { field: 'schedules.0.cron', problems: ['bad cron'] },
    ]);
    expect(flattenValidationErrors([child], 'pools.default')).toEqual([
      { field: 'pools.default.cron', problems: ['bad cron'] },
    ]);
  });

  it('validationFailed makes one ValidationFailedError listing the fields', async () => {
    const errors = await validate(plainToInstance(CreateLeaseDto, { pool: 'X', count: 0 }), {
      whitelist: true,
      forbidNonWhitelisted: true,
    });
    const err = validationFailed(errors);
    expect(err).toBeInstanceOf(ValidationFailedError);
    expect(err.code).toBe('validation_failed');
    const fields = (err.details.fields as FieldProblem[]).map((f) => f.field).sort();
    expect(fields).toEqual(['count', 'pool']);
    expect(err.message).toMatch(/pool: /);
    expect(err.message).toMatch(/count: /);
  });

  it('validationFailed without errors still says something', () => {
    expect(validationFailed([]).message).toBe('invalid request');
  });
});

describe('strictValidationPipe', () => {
  const pipe = strictValidationPipe();
  const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({
    type: 'body',
    metatype,
    data: '',
  });

  it('returns a DTO instance for a valid body', async () => {
    const out: unknown = await pipe.transform({ pool: 'default', count: 2 }, body(CreateLeaseDto));
    expect(out).toBeInstanceOf(CreateLeaseDto);
    expect(out).toMatchObject({ pool: 'default', count: 2 });
  });

  it('throws ValidationFailedError naming unknown and nested fields', async () => {
    let caught: unknown;
    try {
      await pipe.transform(
        { template: 'busybox', colour: 'red', resources: { memoryMb: 1 } },
        body(PutPoolDto),
      );
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationFailedError);
    const fields = ((caught as ValidationFailedError).details.fields as FieldProblem[])
      .map((f) => f.field)
      .sort();
    expect(fields).toEqual(['colour', 'resources.memoryMb']);
  });

  it('does not echo the rejected value in the error', async () => {
    const secret = 'sk_live_DO_NOT_LOG_4242';
    await expect(pipe.transform({ pool: secret }, body(CreateLeaseDto))).rejects.toBeInstanceOf(
      ValidationFailedError,
    );
    try {
      await pipe.transform({ pool: secret }, body(CreateLeaseDto));
    } catch (err) {
      expect(JSON.stringify((err as ValidationFailedError).details)).not.toContain(secret);
    }
  });
});

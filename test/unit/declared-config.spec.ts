import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sha256Hex } from '../../src/common/auth/tokens';
import { DeclaredConfigError, readDeclaredConfig } from '../../src/config/declared-config';
import { PutHostDto } from '../../src/hosts/dto/host.dto';
import { PutPoolDto } from '../../src/pools/dto/pool.dto';
import { PutTemplateDto } from '../../src/templates/dto/template.dto';

const SHIPPED = resolve(__dirname, '../../config/warmpool.yaml');
const NOTHING = { hosts: {}, templates: {}, pools: {}, tenants: {} };

let dir: string;
let counter = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'warmpool-declared-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(yaml: string): string {
  const path = join(dir, `config-${++counter}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

function failure(path: string): DeclaredConfigError {
  try {
    readDeclaredConfig(path);
  } catch (err) {
    expect(err).toBeInstanceOf(DeclaredConfigError);
    return err as DeclaredConfigError;
  }
  throw new Error(`expected ${path} to be rejected`);
}

describe('readDeclaredConfig: nothing declared', () => {
  it('a missing file declares nothing', () => {
    expect(readDeclaredConfig(join(dir, 'does-not-exist.yaml'))).toEqual(NOTHING);
  });

  it.each([
    ['an empty file', ''],
    ['only comments', '# nothing here\n'],
    ['{}', '{}\n'],
    ['empty sections', 'hosts:\ntemplates: {}\npools:\ntenants: {}\n'],
    ['a YAML null document', '~\n'],
  ])('%s declares nothing', (_name, yaml) => {
    expect(readDeclaredConfig(file(yaml))).toEqual(NOTHING);
  });
});

describe('readDeclaredConfig: the shipped config/warmpool.yaml', () => {
  let config: ReturnType<typeof readDeclaredConfig>;

  beforeAll(() => {
    config = readDeclaredConfig(SHIPPED);
  });

  it('declares the local host with driver auto', () => {
    expect(Object.keys(config.hosts)).toEqual(['local']);
    expect(config.hosts.local).toBeInstanceOf(PutHostDto);
    expect(config.hosts.local).toMatchObject({ driver: 'auto', address: 'local' });
  });

  it('declares the default template', () => {
    expect(Object.keys(config.templates)).toEqual(['default']);
    expect(config.templates.default).toBeInstanceOf(PutTemplateDto);
    expect(config.templates.default.setup?.length).toBeGreaterThan(0);
  });

  it('declares the default pool with minReady 2 and maxTotal 10', () => {
    expect(Object.keys(config.pools)).toEqual(['default']);
    expect(config.pools.default).toBeInstanceOf(PutPoolDto);
    expect(config.pools.default).toMatchObject({
      template: 'default',
      minReady: 2,
      maxTotal: 10,
    });
    expect(config.pools.default.maxReady).toBeLessThanOrEqual(10);
  });

  it('declares no tenant', () => {
    expect(config.tenants).toEqual({});
  });
});

describe('readDeclaredConfig: valid declarations', () => {
  it('reads every section into the admin API bodies', () => {
    const token = sha256Hex('wpt_example');
    const config = readDeclaredConfig(
      file(
        [
          'hosts:',
          '  node-7:',
          '    driver: lxc',
          '    address: ssh://root@node7:22',
          '    subnet: 10.88.4.0/22',
          '    options: { lxcPath: /var/lib/lxc }',
          'templates:',
          '  busybox:',
          '    driver: lxc',
          '    source: { lxcTemplate: busybox }',
          'pools:',
          '  ci:',
          '    template: busybox',
          '    resources: { cpus: 2, memoryMb: 512 }',
          '    schedules:',
          '      - { cron: "0 8 * * 1-5", durationMinutes: 600, timezone: Europe/London, minReady: 4 }',
          '    predictive: { enabled: true }',
          'tenants:',
          '  ci:',
          '    maxConcurrentContainers: 50',
          `    tokenSha256: ${token}`,
        ].join('\n'),
      ),
    );
    expect(config.hosts['node-7']).toMatchObject({ driver: 'lxc', subnet: '10.88.4.0/22' });
    expect(config.templates.busybox.source).toEqual({ lxcTemplate: 'busybox' });
    expect(config.pools.ci.schedules?.[0]).toMatchObject({ timezone: 'Europe/London' });
    expect(config.pools.ci.resources).toMatchObject({ cpus: 2, memoryMb: 512 });
    expect(config.tenants.ci).toEqual({ maxConcurrentContainers: 50, tokenSha256: token });
  });

  it('accepts an upper-case tokenSha256', () => {
    const hex = sha256Hex('x').toUpperCase();
    const config = readDeclaredConfig(
      file(`tenants:\n  ci:\n    maxConcurrentContainers: 1\n    tokenSha256: ${hex}\n`),
    );
    expect(config.tenants.ci.tokenSha256).toBe(hex);
  });
});

describe('readDeclaredConfig: rejected declarations', () => {
  it.each<[string, string, RegExp]>([
    ['an unknown section', 'volumes:\n  data: {}\n', /volumes: unknown section/],
    ['a section that is a list', 'hosts:\n  - local\n', /hosts: must be a map/],
    ['a section that is a scalar', 'pools: default\n', /pools: must be a map/],
    [
      'an upper-case name',
      'pools:\n  Default:\n    template: default\n',
      /pools\.Default: the name must match/,
    ],
    [
      'a name with _',
      'hosts:\n  my_host:\n    driver: sim\n',
      /hosts\.my_host: the name must match/,
    ],
    [
      'an unknown pool field',
      'pools:\n  p:\n    template: t\n    colour: red\n',
      /pools\.p\.colour: property colour should not exist/,
    ],
    [
      'a bad pool value',
      'pools:\n  p:\n    template: t\n    minReady: -1\n',
      /pools\.p\.minReady: /,
    ],
    ['a missing template', 'pools:\n  p:\n    minReady: 1\n', /pools\.p\.template: /],
    [
      'a bad nested resource',
      'pools:\n  p:\n    template: t\n    resources: { network: bridged }\n',
      /pools\.p\.resources\.network: /,
    ],
    [
      'a bad schedule cron',
      'pools:\n  p:\n    template: t\n    schedules:\n      - { cron: nope, durationMinutes: 5, minReady: 1 }\n',
      /pools\.p\.schedules\.0\.cron: /,
    ],
    ['an unknown host driver', 'hosts:\n  h:\n    driver: docker\n', /hosts\.h\.driver: /],
    [
      'a bad template source',
      'templates:\n  t:\n    driver: lxc\n    source: { rootfs: relative/path }\n',
      /templates\.t\.source\.rootfs: /,
    ],
    [
      'a tenant with a bad tokenSha256',
      'tenants:\n  ci:\n    maxConcurrentContainers: 5\n    tokenSha256: abc\n',
      /tenants\.ci\.tokenSha256: tokenSha256 must be the hex SHA-256/,
    ],
    [
      'a tenant with a plain token',
      `tenants:\n  ci:\n    maxConcurrentContainers: 5\n    tokenSha256: ${sha256Hex('a')}\n    token: wpt_plain\n`,
      /tenants\.ci\.token: property token should not exist/,
    ],
    ['a tenant with an empty body', 'tenants:\n  ci:\n', /tenants\.ci\.maxConcurrentContainers: /],
  ])('%s', (_name, yaml, message) => {
    const path = file(yaml);
    const err = failure(path);
    expect(err.name).toBe('DeclaredConfigError');
    expect(err.message).toContain(path);
    expect(err.message).toContain('WARMPOOL_CONFIG');
    expect(err.message).toMatch(message);
  });

  it.each([
    ['a list at the top level', '- hosts\n- pools\n'],
    ['a scalar at the top level', 'just a string\n'],
  ])('%s', (_name, yaml) => {
    const path = file(yaml);
    expect(failure(path).message).toMatch(/top level must be a map/);
  });

  it('rejects invalid YAML with the file and the parser reason, on one line', () => {
    const path = file('hosts:\n  a: {driver: sim}\n  b: [\n');
    const err = failure(path);
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/not valid YAML: \S/);
  });

  it('lists every problem of the file at once', () => {
    const err = failure(
      file(
        [
          'widgets: {}',
          'hosts:',
          '  Bad: { driver: sim }',
          '  ok: { driver: nope }',
          'pools:',
          '  p: { template: t, recycle: keep }',
        ].join('\n'),
      ),
    );
    expect(err.message).toMatch(/widgets: unknown section/);
    expect(err.message).toMatch(/hosts\.Bad: the name must match/);
    expect(err.message).toMatch(/hosts\.ok\.driver: /);
    expect(err.message).toMatch(/pools\.p\.recycle: /);
  });

  // class-transformer cannot copy an object with an own "constructor" key: whatever the
  // verdict, it must come as a DeclaredConfigError naming the file, not a bare TypeError.
  it('reports an option named "constructor" as a config problem, not a TypeError', () => {
    const path = file('hosts:\n  h:\n    driver: sim\n    options:\n      constructor: x\n');
    let outcome: string;
    try {
      readDeclaredConfig(path);
      outcome = 'accepted';
    } catch (err) {
      outcome =
        err instanceof DeclaredConfigError && err.message.includes(path)
          ? 'rejected'
          : `${(err as Error).name}: ${(err as Error).message}`;
    }
    expect(['accepted', 'rejected']).toContain(outcome);
  });

  it('names the entry whose body is not a map, without an "undefined" path', () => {
    const path = file('pools:\n  default: hello\n');
    const err = failure(path);
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/pools\.default\b/);
    expect(err.message).not.toContain('undefined');
  });
});

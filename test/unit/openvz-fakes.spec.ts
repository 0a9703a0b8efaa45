import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { FakeOpenVzHost } from '../fakes/openvz/fake-host';

const SNAP = '2f0b2c3d-1111-4222-8333-944455556666';

/** The fakes must fail the way the real tools do, or driver tests against them prove nothing. */
describe('fake OpenVZ 7 tools', () => {
  let host: FakeOpenVzHost;
  const vzctl = (...args: string[]) => host.runTool('vzctl', args);

  beforeEach(() => {
    host = new FakeOpenVzHost('vz7');
    host.addOsTemplate('centos-7');
    expect(
      vzctl('create', '101', '--ostemplate', 'centos-7', '--layout', 'ploop', '--name', 'ct'),
    ).toMatchObject({ code: 0 });
  });
  afterEach(() => host.cleanup());

  it('prints status as "VEID <ctid> exist|deleted mounted|unmounted running|down"', () => {
    expect(vzctl('status', 'ct').stdout).toBe('VEID 101 exist unmounted down\n');
    expect(vzctl('start', 'ct').code).toBe(0);
    expect(vzctl('status', '101').stdout).toBe('VEID 101 exist mounted running\n');
    expect(vzctl('status', '555').stdout).toBe('VEID 555 deleted unmounted down\n');
  });

  it('refuses an unknown name with 21 before looking at containers', () => {
    expect(vzctl('status', 'nope')).toMatchObject({
      code: 21,
      stderr: 'Invalid ctid is specified: nope\n',
    });
    expect(vzctl('destroy', 'nope').code).toBe(21);
  });

  it('rejects unknown flags: 21 where vzctl checks getopt, 20 where it does not', () => {
    const set = vzctl('set', 'ct', '--no-such-flag', '1', '--save');
    expect(set.code).toBe(21);
    // vzctl 7 shifts argv before getopt_long, so glibc names the CT where the program goes.
    expect(set.stderr).toBe("ct: unrecognized option '--no-such-flag'\n");
    expect(vzctl('stop', 'ct', '--bogus').code).toBe(20);
    expect(vzctl('snapshot', 'ct', '--skip-suspnd').code).toBe(21);
  });

  it('accepts unambiguous abbreviations and refuses ambiguous ones, like getopt_long', () => {
    expect(vzctl('set', 'ct', '--cpul', '50', '--save').code).toBe(0);
    const ambiguous = vzctl('set', 'ct', '--cpu', '2', '--save');
    expect(ambiguous.code).toBe(21);
    expect(ambiguous.stderr).toMatch(/option '--cpu' is ambiguous; possibilities:/);
  });

  it('validates values (21) and fails loudly on real options it does not model (3)', () => {
    expect(vzctl('set', 'ct', '--ram', 'lots', '--save')).toMatchObject({
      code: 21,
      stderr: 'Bad parameter for --ram: lots\n',
    });
    expect(vzctl('set', 'ct', '--numproc', '100', '--save')).toMatchObject({ code: 3 });
    expect(vzctl('set', 'ct', '--ram', '1G', '--save', 'stray').code).toBe(20);
  });

  it('saves parameters only with --save', () => {
    expect(vzctl('set', 'ct', '--ram', '1G').stdout).toMatch(/Changes are not saved/);
    expect(host.find('ct')?.params.RAM).toBeUndefined();
    expect(vzctl('set', 'ct', '--ram', '1G', '--ipadd', '10.0.0.9', '--save').code).toBe(0);
    expect(host.find('ct')).toMatchObject({ params: { RAM: '1G' }, ip: ['10.0.0.9'] });
  });

  it('exits 9 while another process holds the lock, and takes over a stale lock', () => {
    const release = host.holdLock('ct');
    expect(vzctl('start', 'ct')).toMatchObject({ code: 9, stderr: 'Cannot lock the Container\n' });
    expect(vzctl('status', 'ct').code).toBe(0);
    release();
    const ct = host.find('ct')!;
    writeFileSync(join(host.stateDir, 'lock', `${ct.ctid}.lck`), '2147483000');
    expect(vzctl('start', 'ct').code).toBe(0);
  });

  it('exits 32 starting a running container and destroying one; stop of a missing one is 0', () => {
    expect(vzctl('start', 'ct').code).toBe(0);
    expect(vzctl('start', 'ct')).toMatchObject({
      code: 32,
      stderr: 'Container is already running\n',
    });
    expect(vzctl('destroy', 'ct').code).toBe(32);
    expect(vzctl('stop', 'ct', '--fast').code).toBe(0);
    expect(vzctl('destroy', 'ct').code).toBe(0);
    expect(vzctl('destroy', '101')).toMatchObject({ code: 14 });
    expect(vzctl('stop', '101', '--fast').code).toBe(0);
  });

  it('exec3 runs the argv as given, with no shell in between', () => {
    vzctl('start', 'ct');
    const res = vzctl('exec3', 'ct', 'sh', '-c', 'echo "$0"; pwd', '; rm -rf /');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`; rm -rf /\n${host.rootOf('ct')}\n`);
  });

  it('exec2 joins its words with spaces and runs bash -c; exec maps failure to 8', () => {
    vzctl('start', 'ct');
    expect(vzctl('exec2', 'ct', 'echo', "'a  b'", '$((1+1))').stdout).toBe('a  b 2\n');
    expect(vzctl('exec2', 'ct', 'exit 7').code).toBe(7);
    expect(vzctl('exec', 'ct', 'exit 7').code).toBe(8);
  });

  it('exec passes stdin through and exits 31 on a stopped container', () => {
    expect(vzctl('exec3', 'ct', 'true')).toMatchObject({
      code: 31,
      stderr: 'Container is not running\n',
    });
    vzctl('start', 'ct');
    expect(host.runTool('vzctl', ['exec3', 'ct', 'cat'], 'from stdin').stdout).toBe('from stdin');
  });

  it('snapshots print "Creating snapshot {uuid}" and switching brings the files back', () => {
    expect(vzctl('snapshot', 'ct', '--id', SNAP, '--skip-suspend').stdout).toBe(
      `Creating snapshot {${SNAP}}\n`,
    );
    expect(vzctl('snapshot', 'ct', '--id', SNAP).code).toBe(156);
    vzctl('start', 'ct');
    vzctl('exec3', 'ct', 'sh', '-c', 'echo dirty > build.log');
    expect(existsSync(join(host.rootOf('ct'), 'build.log'))).toBe(true);
    expect(vzctl('snapshot-switch', 'ct', '--id', `{${SNAP}}`, '--skip-resume').code).toBe(0);
    expect(existsSync(join(host.rootOf('ct'), 'build.log'))).toBe(false);
    expect(vzctl('status', 'ct').stdout).toMatch(/ down$/m);
    expect(vzctl('snapshot-switch', 'ct')).toMatchObject({
      code: 20,
      stderr: 'Snapshot uuid is not specified.\n',
    });
    expect(vzctl('snapshot-switch', 'ct', '--id', 'not-a-uuid').code).toBe(20);
  });

  it('vzlist pads the ctid to 36 columns and the name to 32, then trims', () => {
    vzctl('set', 'ct', '--ipadd', '10.0.0.9', '--save');
    const res = host.runTool('vzlist', ['-a', '-H', '-o', 'ctid,name,status,ip']);
    expect(res.stdout).toBe(
      `${'101'.padStart(36)} ${'ct'.padEnd(32)} ${'stopped'.padEnd(9)} 10.0.0.9\n`,
    );
    expect(host.runTool('vzlist', ['-H', '-o', 'ctid']).stdout).toBe('');
    expect(host.runTool('vzlist', ['-a', '-o', 'bogus']).code).toBe(1);
    expect(host.runTool('vzlist', ['--bogus']).code).toBe(1);
  });

  it('prlctl clones to a fresh UUID and warns that it is deprecated', () => {
    const res = host.runTool('prlctl', ['clone', 'ct', '--name', 'wp-copy']);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/deprecated CLI component/);
    expect(host.find('wp-copy')?.ctid).toMatch(/^[0-9a-f-]{36}$/);
    expect(host.runTool('prlctl', ['clone', 'ct', '--name', 'wp-copy']).code).toBe(255);
    expect(host.runTool('prlctl', ['clone', 'ct', '--nam', 'x']).code).toBe(1);
    expect(host.runTool('prlctl', ['start', 'nope']).code).toBe(255);
  });

  it('exec dies with its process group, as the runner kills it on timeout', async () => {
    vzctl('start', 'ct');
    const child = spawn(
      join(host.binDir, 'vzctl'),
      ['exec3', 'ct', 'sh', '-c', 'echo $$ > pid; exec sleep 30'],
      { detached: true, env: { PATH: process.env.PATH } },
    );
    const pidFile = join(host.rootOf('ct'), 'pid');
    while (!existsSync(pidFile) || !readFileSync(pidFile, 'utf8').trim()) await sleep(20);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.on('close', r));
    await sleep(100);
    // Gone, or a zombie waiting for whoever inherited it to reap it.
    expect(processState(sleeper)).toMatch(/^(gone|Z)$/);
  });
});

describe('fake vzctl 4.x', () => {
  let host: FakeOpenVzHost;
  const vzctl = (...args: string[]) => host.runTool('vzctl', args);

  beforeEach(() => {
    host = new FakeOpenVzHost('legacy');
    host.addOsTemplate('centos-6');
  });
  afterEach(() => host.cleanup());

  it('wants numeric CT ids, says CTID, and has no prlctl', () => {
    expect(vzctl('--version').stdout).toBe('vzctl version 4.9.4\n');
    expect(vzctl('create', SNAP, '--ostemplate', 'centos-6')).toMatchObject({
      code: 21,
      stderr: `Bad CT ID ${SNAP}\n`,
    });
    expect(
      vzctl('create', '101', '--ostemplate', 'centos-6', '--layout', 'ploop', '--name', 'ct').code,
    ).toBe(0);
    expect(vzctl('status', 'ct').stdout).toBe('CTID 101 exist unmounted down\n');
    expect(existsSync(join(host.binDir, 'prlctl'))).toBe(false);
  });

  it('has no --skip-resume, exits 14 stopping a missing container, and says "already locked"', () => {
    vzctl('create', '101', '--ostemplate', 'centos-6', '--name', 'ct');
    vzctl('snapshot', 'ct', '--id', SNAP, '--skip-suspend');
    const res = vzctl('snapshot-switch', 'ct', '--id', SNAP, '--skip-resume');
    expect(res).toMatchObject({ code: 21, stderr: "vzctl: unrecognized option '--skip-resume'\n" });
    expect(vzctl('snapshot-switch', 'ct', '--id', SNAP).code).toBe(0);
    expect(vzctl('stop', '555').code).toBe(14);
    const release = host.holdLock('ct');
    expect(vzctl('start', 'ct')).toMatchObject({ code: 9, stderr: 'Container already locked\n' });
    release();
  });

  it('vzlist pads the ctid to 10 columns and says "Container(s) not found" when empty', () => {
    expect(host.runTool('vzlist', ['-a', '-H', '-o', 'ctid,name'])).toMatchObject({
      code: 1,
      stderr: 'Container(s) not found\n',
    });
    vzctl('create', '101', '--ostemplate', 'centos-6', '--name', 'ct');
    expect(host.runTool('vzlist', ['-a', '-H', '-o', 'ctid,name']).stdout).toBe(
      `${'101'.padStart(10)} ct\n`,
    );
  });
});

function processState(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
  } catch {
    return 'gone';
  }
}

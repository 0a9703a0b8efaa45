import {
  createCommandRunner,
  InvalidHostAddressError,
  parseHostAddress,
} from '../../src/drivers/command-runner.factory';
import { LocalCommandRunner } from '../../src/drivers/local-command-runner';
import { SshCommandRunner } from '../../src/drivers/ssh-command-runner';

describe('parseHostAddress', () => {
  it.each([
    ['local', { kind: 'local' }],
    ['ssh://root@node1', { kind: 'ssh', user: 'root', host: 'node1', port: 22 }],
    ['ssh://deploy@10.0.0.7:2222', { kind: 'ssh', user: 'deploy', host: '10.0.0.7', port: 2222 }],
    [
      'ssh://_ci-bot@Node-1.Example.COM:65535',
      { kind: 'ssh', user: '_ci-bot', host: 'node-1.example.com', port: 65535 },
    ],
    ['ssh://root@[::1]', { kind: 'ssh', user: 'root', host: '::1', port: 22 }],
    ['ssh://root@[2001:DB8::7]:22', { kind: 'ssh', user: 'root', host: '2001:db8::7', port: 22 }],
    ['ssh://root@0.0.0.0:1', { kind: 'ssh', user: 'root', host: '0.0.0.0', port: 1 }],
    [`ssh://${'a'.repeat(32)}@h`, { kind: 'ssh', user: 'a'.repeat(32), host: 'h', port: 22 }],
  ])('accepts %s', (address, expected) => {
    expect(parseHostAddress(address)).toEqual(expected);
  });

  it.each([
    '',
    'LOCAL',
    'local ',
    ' local',
    'localhost',
    'http://root@host',
    'SSH://root@host',
    'ssh://host',
    'ssh://@host',
    'ssh://root@',
    'ssh://Root@host',
    'ssh://1root@host',
    `ssh://${'a'.repeat(33)}@host`,
    'ssh://root:secret@host',
    'ssh://a@b@host',
    'ssh://root@host:0',
    'ssh://root@host:65536',
    'ssh://root@host:022',
    'ssh://root@host:22x',
    'ssh://root@host:',
    'ssh://root@host:22:22',
    'ssh://root@host/',
    'ssh://root@host/path',
    'ssh://root@host?x=1',
    'ssh://root@host#frag',
    'ssh://root@ho st',
    'ssh://root@host\n',
    'ssh://root@-oProxyCommand=touch',
    'ssh://-oProxyCommand=x@host',
    'ssh://root@host_name',
    'ssh://root@a..b',
    'ssh://root@.host',
    'ssh://root@host.',
    'ssh://root@-host',
    'ssh://root@host-',
    `ssh://root@${'a'.repeat(64)}.com`,
    'ssh://root@256.1.1.1',
    'ssh://root@1.2.3',
    'ssh://root@010.0.0.1',
    'ssh://root@0x7f.0.0.1',
    'ssh://root@::1',
    'ssh://root@[::1',
    'ssh://root@[]',
    'ssh://root@[1.2.3.4]',
    'ssh://root@[fe80::1%eth0]',
    'ssh://root@[::1]x',
    'ssh://root@héllo',
  ])('rejects %p', (address) => {
    expect(() => parseHostAddress(address)).toThrow(InvalidHostAddressError);
  });

  it('says what is wrong and what is expected', () => {
    expect(() => parseHostAddress('ssh://root@host:70000')).toThrow(
      "invalid host address: port must be a number from 1 to 65535 (expected 'local' or 'ssh://user@host[:port]')",
    );
  });
});

describe('createCommandRunner', () => {
  it('runs locally for "local"', () => {
    const runner = createCommandRunner('local', {});
    expect(runner).toBeInstanceOf(LocalCommandRunner);
    expect(runner.address).toBe('local');
  });

  it('goes over SSH for ssh:// with the address written out in full', () => {
    const runner = createCommandRunner('ssh://root@Node1', { sshKey: '/etc/warmpool/key' });
    expect(runner).toBeInstanceOf(SshCommandRunner);
    expect(runner.address).toBe('ssh://root@node1:22');
    expect(createCommandRunner('ssh://root@[::1]:2200', {}).address).toBe('ssh://root@[::1]:2200');
  });

  it('throws a clear error for any other address or bad SSH options', () => {
    expect(() => createCommandRunner('docker://thing', {})).toThrow(/invalid host address/);
    expect(() => createCommandRunner('ssh://root@h', { strictHostKeyChecking: 'no' })).toThrow(
      /strictHostKeyChecking/,
    );
  });
});

import { vzctlSetArgs } from '../../src/drivers/openvz/vzctl-set-args';

describe('vzctlSetArgs', () => {
  it('maps a full resource shape and the address', () => {
    expect(
      vzctlSetArgs(
        {
          cpus: 2,
          memoryMb: 2048,
          swapMb: 0,
          diskMb: 10240,
          cpuLimitPercent: 200,
          iops: 500,
          network: 'isolated',
        },
        '10.88.0.17',
      ),
    ).toEqual([
      '--ram',
      '2048M',
      '--swap',
      '0M',
      '--cpus',
      '2',
      '--cpulimit',
      '200',
      '--diskspace',
      '10240M',
      '--iopslimit',
      '500',
      '--ipadd',
      '10.88.0.17',
    ]);
  });

  it('sends nothing for an unspecified shape and no address', () => {
    expect(vzctlSetArgs({ network: 'none' }, null)).toEqual([]);
  });

  it('rounds fractional CPUs up (the share itself belongs to --cpulimit)', () => {
    expect(vzctlSetArgs({ cpus: 1.5, network: 'none' }, null)).toEqual(['--cpus', '2']);
  });

  it.each([
    [{ memoryMb: 0 }],
    [{ memoryMb: 1.5 }],
    [{ swapMb: -1 }],
    [{ cpus: 0 }],
    [{ diskMb: Number.NaN }],
    [{ iops: -5 }],
  ])('rejects %j', (shape) => {
    expect(() => vzctlSetArgs({ network: 'none', ...shape }, null)).toThrow();
  });
});

import {
  parseVzctlMajorVersion,
  parseVzctlStatus,
  parseVzlistRows,
} from '../../src/drivers/openvz/vzctl-status';

describe('parseVzctlStatus', () => {
  it('reads OpenVZ 7 output (VEID, a UUID ctid)', () => {
    const status = parseVzctlStatus(
      'VEID 0f1b2c3d-1111-4222-8333-944455556666 exist mounted running\n',
    );
    expect(status).toEqual({
      ctid: '0f1b2c3d-1111-4222-8333-944455556666',
      exists: true,
      mounted: true,
      running: true,
      paused: false,
      suspended: false,
    });
  });

  it('reads vzctl 4.x output (CTID, numeric) with the sixth word', () => {
    const status = parseVzctlStatus('CTID 101 exist unmounted down suspended\n');
    expect(status).toMatchObject({ ctid: '101', exists: true, running: false, suspended: true });
  });

  it('reports a deleted container as not existing', () => {
    expect(parseVzctlStatus('VEID 101 deleted unmounted down').exists).toBe(false);
  });

  it('does not count a paused container as running', () => {
    expect(parseVzctlStatus('VEID 101 exist mounted paused')).toMatchObject({
      running: false,
      paused: true,
    });
  });

  it('finds the status line among log noise', () => {
    expect(parseVzctlStatus('Warning: something\nVEID 7 exist mounted running\n').ctid).toBe('7');
  });

  it.each([
    [''],
    ['Container is not found'],
    ['VEID 101 exist mounted'],
    ['VEID 101 exists mounted running'],
    ['VEID 101 exist mounted sleeping'],
  ])('rejects %j', (text) => {
    expect(() => parseVzctlStatus(text)).toThrow(/unexpected vzctl status/);
  });
});

describe('parseVzlistRows', () => {
  it('reads padded columns, "-" as unset and every address of a last ip column', () => {
    const out = [
      '                                 101 wpgolden-busybox-v1',
      '0f1b2c3d-1111-4222-8333-944455556666 wp-a                             10.88.0.5 10.88.0.6',
      '                                 102 -',
      '',
    ].join('\n');
    expect(parseVzlistRows(out)).toEqual([
      { first: '101', second: 'wpgolden-busybox-v1', ips: [] },
      {
        first: '0f1b2c3d-1111-4222-8333-944455556666',
        second: 'wp-a',
        ips: ['10.88.0.5', '10.88.0.6'],
      },
      { first: '102', second: null, ips: [] },
    ]);
  });

  it('reads nothing from empty output', () => {
    expect(parseVzlistRows('\n')).toEqual([]);
  });
});

describe('parseVzctlMajorVersion', () => {
  it.each([
    ['vzctl version 7.0.262\n', 7],
    ['vzctl version 4.9.4\n', 4],
    ['bash: vzctl: command not found', null],
  ])('%j → %p', (text, major) => {
    expect(parseVzctlMajorVersion(text)).toBe(major);
  });
});

import { HostCapacity, placeContainers } from '../../src/reconciler/placement';

const host = (name: string, patch: Partial<HostCapacity> = {}): HostCapacity => ({
  hostId: `id-${name}`,
  name,
  live: 0,
  poolLive: 0,
  provisioning: 0,
  maxContainers: 100,
  maxConcurrentProvisions: 4,
  ...patch,
});

const counts = (placed: string[]): Record<string, number> =>
  placed.reduce<Record<string, number>>((acc, id) => ({ ...acc, [id]: (acc[id] ?? 0) + 1 }), {});

describe('placeContainers', () => {
  it('returns [] when there are no hosts', () => {
    expect(placeContainers(3, [])).toEqual([]);
  });

  it('returns [] for a count of 0', () => {
    expect(placeContainers(0, [host('a')])).toEqual([]);
  });

  it('returns host ids, not names', () => {
    expect(placeContainers(1, [host('a')])).toEqual(['id-a']);
  });

  it('puts the next container on the host with the fewest of this pool', () => {
    const hosts = [host('a', { poolLive: 3, live: 3 }), host('b', { poolLive: 1, live: 50 })];
    expect(placeContainers(1, hosts)).toEqual(['id-b']);
  });

  it('breaks a pool tie by the fewest containers overall', () => {
    const hosts = [host('a', { poolLive: 2, live: 40 }), host('b', { poolLive: 2, live: 10 })];
    expect(placeContainers(1, hosts)).toEqual(['id-b']);
  });

  it('breaks a full tie by name', () => {
    expect(placeContainers(1, [host('node-b'), host('node-a'), host('node-c')])).toEqual([
      'id-node-a',
    ]);
  });

  it('spreads evenly over equal hosts, in name order', () => {
    expect(placeContainers(6, [host('c'), host('a'), host('b')])).toEqual([
      'id-a',
      'id-b',
      'id-c',
      'id-a',
      'id-b',
      'id-c',
    ]);
  });

  it('fills the emptiest host up to the others first', () => {
    const hosts = [host('a', { poolLive: 3, live: 3 }), host('b')];
    expect(placeContainers(5, hosts)).toEqual(['id-b', 'id-b', 'id-b', 'id-a', 'id-b']);
  });

  it('counts its own placements when spreading', () => {
    const placed = placeContainers(8, [host('a'), host('b')]);
    expect(counts(placed)).toEqual({ 'id-a': 4, 'id-b': 4 });
  });

  it('never exceeds maxContainers, counting every pool', () => {
    const hosts = [host('a', { live: 9, maxContainers: 10 }), host('b', { live: 99 })];
    expect(placeContainers(3, hosts)).toEqual(['id-a', 'id-b']);
  });

  it('skips a full host', () => {
    const hosts = [host('a', { live: 100 }), host('b', { poolLive: 50, live: 50 })];
    expect(placeContainers(2, hosts)).toEqual(['id-b', 'id-b']);
  });

  it('never exceeds maxConcurrentProvisions, counting provisions already running', () => {
    const hosts = [
      host('a', { provisioning: 1, maxConcurrentProvisions: 2 }),
      host('b', { provisioning: 0, maxConcurrentProvisions: 1 }),
    ];
    const placed = placeContainers(10, hosts);
    expect(counts(placed)).toEqual({ 'id-a': 1, 'id-b': 1 });
  });

  it('skips a host already at its provisioning limit', () => {
    const hosts = [host('a', { provisioning: 4 }), host('b', { poolLive: 10, live: 10 })];
    expect(placeContainers(2, hosts)).toEqual(['id-b', 'id-b']);
  });

  it('places partially when capacity runs out', () => {
    const hosts = [
      host('a', { live: 98, maxContainers: 100 }),
      host('b', { maxConcurrentProvisions: 1 }),
    ];
    const placed = placeContainers(10, hosts);
    expect(placed).toHaveLength(3);
    expect(counts(placed)).toEqual({ 'id-a': 2, 'id-b': 1 });
  });

  it('places nothing when every host is full or busy', () => {
    const hosts = [
      host('a', { live: 5, maxContainers: 5 }),
      host('b', { provisioning: 2, maxConcurrentProvisions: 2 }),
    ];
    expect(placeContainers(4, hosts)).toEqual([]);
  });

  it('does not mutate the hosts it is given', () => {
    const hosts = [host('a'), host('b')];
    const before = JSON.stringify(hosts);
    placeContainers(5, hosts);
    expect(JSON.stringify(hosts)).toBe(before);
  });

  it.each([
    [1, 1],
    [4, 4],
    [7, 7],
    [8, 8],
    [20, 8],
  ])('places min(%i, total room) containers', (count, expected) => {
    const hosts = [
      host('a', { maxConcurrentProvisions: 3 }),
      host('b', { maxConcurrentProvisions: 3 }),
      host('c', { live: 8, maxContainers: 10 }),
    ];
    expect(placeContainers(count, hosts)).toHaveLength(expected);
  });
});

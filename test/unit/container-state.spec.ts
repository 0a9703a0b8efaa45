import {
  assertTransition,
  canTransition,
  CONTAINER_STATES,
  ContainerState,
  IllegalTransitionError,
  LIVE_STATES,
  STATE_TIMESTAMP,
  statesLeadingTo,
} from '../../src/containers/container-state';

// Written from API.md "Container states" independently of the table in the source.
const EXPECTED: Record<ContainerState, ContainerState[]> = {
  provisioning: ['ready', 'failed'],
  ready: ['leased', 'retiring', 'failed'],
  leased: ['recycling', 'retiring', 'failed'],
  recycling: ['destroyed', 'ready', 'failed'],
  retiring: ['destroyed', 'failed'],
  failed: ['destroyed'],
  destroyed: [],
};

const ALL: ContainerState[] = [
  'provisioning',
  'ready',
  'leased',
  'recycling',
  'retiring',
  'failed',
  'destroyed',
];

const PAIRS = ALL.flatMap((from) =>
  ALL.map((to) => ({ from, to, legal: EXPECTED[from].includes(to) })),
);

describe('container states', () => {
  it('are exactly the seven states of API.md', () => {
    expect([...CONTAINER_STATES].sort()).toEqual([...ALL].sort());
  });

  it('has 14 legal transitions out of 49 pairs', () => {
    expect(PAIRS.filter((p) => p.legal)).toHaveLength(14);
    expect(PAIRS.filter(({ from, to }) => canTransition(from, to))).toHaveLength(14);
  });
});

describe('canTransition', () => {
  it.each(PAIRS)('$from → $to is legal: $legal', ({ from, to, legal }) => {
    expect(canTransition(from, to)).toBe(legal);
  });

  it.each(ALL)('never allows %s → itself', (state) => {
    expect(canTransition(state, state)).toBe(false);
  });

  it.each(ALL.filter((s) => s !== 'destroyed' && s !== 'failed'))('allows %s → failed', (state) => {
    expect(canTransition(state, 'failed')).toBe(true);
  });

  it('never allows leaving destroyed', () => {
    expect(ALL.filter((to) => canTransition('destroyed', to))).toEqual([]);
  });

  it('never lets a leased container become ready or leased again without recycling', () => {
    expect(canTransition('leased', 'ready')).toBe(false);
    expect(canTransition('leased', 'leased')).toBe(false);
    expect(canTransition('recycling', 'leased')).toBe(false);
  });
});

describe('assertTransition', () => {
  it.each(PAIRS.filter((p) => p.legal))('accepts $from → $to', ({ from, to }) => {
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it.each(PAIRS.filter((p) => !p.legal))(
    'throws IllegalTransitionError for $from → $to',
    ({ from, to }) => {
      let caught: unknown;
      try {
        assertTransition(from, to);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(IllegalTransitionError);
      const err = caught as IllegalTransitionError;
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe('IllegalTransitionError');
      expect(err.from).toBe(from);
      expect(err.to).toBe(to);
      expect(err.message).toContain(from);
      expect(err.message).toContain(to);
    },
  );
});

describe('statesLeadingTo', () => {
  const expectedFrom = (to: ContainerState): ContainerState[] =>
    ALL.filter((from) => EXPECTED[from].includes(to));

  it.each(ALL)('lists every state with a legal change to %s', (to) => {
    expect([...statesLeadingTo(to)].sort()).toEqual(expectedFrom(to).sort());
  });

  it.each([
    ['provisioning', []],
    ['ready', ['provisioning', 'recycling']],
    ['leased', ['ready']],
    ['recycling', ['leased']],
    ['retiring', ['ready', 'leased']],
    ['failed', ['provisioning', 'ready', 'leased', 'recycling', 'retiring']],
    ['destroyed', ['recycling', 'retiring', 'failed']],
  ] as [ContainerState, ContainerState[]][])('%s ← %j', (to, from) => {
    expect([...statesLeadingTo(to)].sort()).toEqual([...from].sort());
  });
});

describe('LIVE_STATES', () => {
  it('is every state but destroyed', () => {
    expect([...LIVE_STATES].sort()).toEqual(ALL.filter((s) => s !== 'destroyed').sort());
    expect(LIVE_STATES).not.toContain('destroyed');
  });
});

describe('STATE_TIMESTAMP', () => {
  it('gives each state its own column', () => {
    const columns = ALL.map((s) => STATE_TIMESTAMP[s]);
    expect(new Set(columns).size).toBe(ALL.length);
    expect(STATE_TIMESTAMP.provisioning).toBe('created_at');
    expect(STATE_TIMESTAMP.destroyed).toBe('destroyed_at');
  });
});

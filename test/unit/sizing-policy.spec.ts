import {
  computeTarget,
  planScaleDown,
  ReadyContainer,
  ScaleDownInput,
  scaleUpCount,
  ScaleUpInput,
  TargetInput,
} from '../../src/reconciler/sizing-policy';

const base: TargetInput = {
  minReady: 5,
  maxReady: 50,
  maxTotal: 100,
  leased: 0,
  scheduledMinReady: null,
  predicted: null,
};

describe('computeTarget', () => {
  it.each<[string, Partial<TargetInput>, number, string]>([
    ['minReady alone', {}, 5, 'minReady'],
    ['minReady 0', { minReady: 0 }, 0, 'minReady'],
    ['a schedule raises it', { scheduledMinReady: 40 }, 40, 'schedule'],
    ['a schedule lowers it', { scheduledMinReady: 2 }, 2, 'schedule'],
    ['a schedule of 0 empties it', { scheduledMinReady: 0 }, 0, 'schedule'],
    ['predictive raises minReady', { predicted: 12 }, 12, 'predictive'],
    ['predictive never lowers minReady', { predicted: 3 }, 5, 'minReady'],
    ['predictive equal to minReady keeps minReady', { predicted: 5 }, 5, 'minReady'],
    ['predictive raises a schedule', { scheduledMinReady: 10, predicted: 20 }, 20, 'predictive'],
    ['predictive never lowers a schedule', { scheduledMinReady: 10, predicted: 7 }, 10, 'schedule'],
    [
      'predictive above a lowering schedule',
      { scheduledMinReady: 1, predicted: 3 },
      3,
      'predictive',
    ],
    ['clamped to maxReady', { minReady: 80, maxReady: 60 }, 60, 'minReady'],
    ['schedule clamped to maxReady', { scheduledMinReady: 70 }, 50, 'schedule'],
    ['predictive clamped to maxReady', { predicted: 500 }, 50, 'predictive'],
    ['clamped to maxTotal − leased', { leased: 97 }, 3, 'minReady'],
    [
      'schedule clamped to maxTotal − leased',
      { scheduledMinReady: 40, leased: 80 },
      20,
      'schedule',
    ],
    ['0 when the pool is fully leased', { leased: 100 }, 0, 'minReady'],
    ['never negative when over-leased', { leased: 130 }, 0, 'minReady'],
    ['never negative for a negative prediction', { minReady: 0, predicted: -4 }, 0, 'minReady'],
    ['maxReady 0', { maxReady: 0, predicted: 9 }, 0, 'predictive'],
  ])('%s', (_name, patch, target, reason) => {
    expect(computeTarget({ ...base, ...patch })).toEqual({ target, reason });
  });

  it('takes the tighter of maxReady and maxTotal − leased', () => {
    expect(computeTarget({ ...base, minReady: 30, maxReady: 20, leased: 90 }).target).toBe(10);
    expect(computeTarget({ ...base, minReady: 30, maxReady: 20, leased: 70 }).target).toBe(20);
  });
});

const up: ScaleUpInput = {
  target: 5,
  readyCurrent: 0,
  provisioning: 0,
  returning: 0,
  waiting: 0,
  live: 0,
  maxTotal: 100,
};

describe('scaleUpCount', () => {
  it.each<[string, Partial<ScaleUpInput>, number]>([
    ['an empty pool launches the target', {}, 5],
    ['ready containers count', { readyCurrent: 3, live: 3 }, 2],
    ['provisioning containers count', { provisioning: 4, live: 4 }, 1],
    ['returning (reset) containers count', { returning: 2, live: 2 }, 3],
    ['all three together', { readyCurrent: 1, provisioning: 1, returning: 1, live: 3 }, 2],
    ['at target: nothing', { readyCurrent: 5, live: 5 }, 0],
    ['above target: never negative', { readyCurrent: 9, live: 9 }, 0],
    ['waiters come on top of the target', { waiting: 3 }, 8],
    ['waiters with a full ready set', { readyCurrent: 5, waiting: 2, live: 5 }, 2],
    ['waiters on a target of 0', { target: 0, waiting: 4 }, 4],
    ['capped by maxTotal − live', { waiting: 10, live: 90 }, 10],
    ['capped by maxTotal − live (leased ones)', { live: 98 }, 2],
    ['nothing when live is at maxTotal', { live: 100, waiting: 5 }, 0],
    ['never negative when live is above maxTotal', { live: 120 }, 0],
    ['maxTotal 0', { maxTotal: 0 }, 0],
  ])('%s', (_name, patch, count) => {
    expect(scaleUpCount({ ...up, ...patch })).toBe(count);
  });
});

const NOW = new Date('2024-06-03T12:00:00.000Z');
const secondsAgo = (s: number): Date => new Date(NOW.getTime() - s * 1000);
const ready = (id: string, ageSeconds: number, templateVersion = 2): ReadyContainer => ({
  id,
  readyAt: secondsAgo(ageSeconds),
  templateVersion,
});

const down = (patch: Partial<ScaleDownInput>): ScaleDownInput => ({
  target: 2,
  ready: [],
  currentVersion: 2,
  now: NOW,
  excessSince: null,
  scaleDownDelaySeconds: 300,
  maxIdleSeconds: 3600,
  ...patch,
});

describe('planScaleDown', () => {
  it('does nothing for an empty pool', () => {
    expect(planScaleDown(down({}))).toEqual({ retire: [], excessSince: null });
  });

  it('does nothing at target', () => {
    expect(planScaleDown(down({ ready: [ready('a', 10), ready('b', 20)] }))).toEqual({
      retire: [],
      excessSince: null,
    });
  });

  describe('idle age', () => {
    it('retires containers idle longer than maxIdleSeconds even below target', () => {
      const plan = planScaleDown(
        down({ target: 5, ready: [ready('old', 3601), ready('fresh', 10)] }),
      );
      expect(plan.retire).toEqual([{ id: 'old', reason: 'idle' }]);
    });

    it('keeps a container exactly maxIdleSeconds old', () => {
      const plan = planScaleDown(down({ target: 5, ready: [ready('edge', 3600)] }));
      expect(plan.retire).toEqual([]);
    });

    it('retires every idle container, oldest first, whatever the target', () => {
      const plan = planScaleDown(
        down({ target: 3, ready: [ready('b', 5000), ready('a', 9000), ready('c', 4000)] }),
      );
      expect(plan.retire).toEqual([
        { id: 'a', reason: 'idle' },
        { id: 'b', reason: 'idle' },
        { id: 'c', reason: 'idle' },
      ]);
    });
  });

  describe('rotation', () => {
    it('retires old-version containers while the rest still covers the target', () => {
      const plan = planScaleDown(
        down({
          target: 2,
          ready: [ready('old1', 50, 1), ready('old2', 40, 1), ready('n1', 30), ready('n2', 20)],
        }),
      );
      expect(plan.retire).toEqual([
        { id: 'old1', reason: 'rotation' },
        { id: 'old2', reason: 'rotation' },
      ]);
      expect(plan.excessSince).toBeNull();
    });

    it('never drops below target: at target nothing of the old version goes', () => {
      const plan = planScaleDown(
        down({ target: 3, ready: [ready('old1', 50, 1), ready('old2', 40, 1), ready('n1', 30)] }),
      );
      expect(plan.retire).toEqual([]);
    });

    it('retires only as many as the spare, oldest first', () => {
      const plan = planScaleDown(
        down({
          target: 3,
          ready: [
            ready('old2', 40, 1),
            ready('n1', 30),
            ready('old1', 50, 1),
            ready('old3', 35, 1),
          ],
        }),
      );
      expect(plan.retire).toEqual([{ id: 'old1', reason: 'rotation' }]);
    });

    it('counts a newer version than current as old too', () => {
      const plan = planScaleDown(
        down({ target: 0, scaleDownDelaySeconds: 9999, ready: [ready('x', 10, 3)] }),
      );
      expect(plan.retire).toEqual([{ id: 'x', reason: 'rotation' }]);
    });

    it('rotates without waiting for the scale-down delay', () => {
      const plan = planScaleDown(
        down({
          target: 1,
          scaleDownDelaySeconds: 86_400,
          ready: [ready('o', 9, 1), ready('n', 8)],
        }),
      );
      expect(plan.retire).toEqual([{ id: 'o', reason: 'rotation' }]);
      expect(plan.excessSince).toBeNull();
    });

    it('judges coverage after idle retirement', () => {
      const plan = planScaleDown(
        down({
          target: 2,
          ready: [ready('idle', 4000), ready('old', 60, 1), ready('n1', 30), ready('n2', 20)],
        }),
      );
      expect(plan.retire).toEqual([
        { id: 'idle', reason: 'idle' },
        { id: 'old', reason: 'rotation' },
      ]);
    });
  });

  describe('excess', () => {
    const four = [ready('c', 30), ready('a', 50), ready('d', 20), ready('b', 40)];

    it('starts the clock and retires nothing when excess first appears', () => {
      const plan = planScaleDown(down({ ready: four }));
      expect(plan.retire).toEqual([]);
      expect(plan.excessSince).toEqual(NOW);
    });

    it('carries excessSince while the delay has not passed', () => {
      const since = secondsAgo(299);
      const plan = planScaleDown(down({ ready: four, excessSince: since }));
      expect(plan.retire).toEqual([]);
      expect(plan.excessSince).toBe(since);
    });

    it('retires the excess, oldest first, once the delay has passed', () => {
      const plan = planScaleDown(down({ ready: four, excessSince: secondsAgo(300) }));
      expect(plan.retire).toEqual([
        { id: 'a', reason: 'excess' },
        { id: 'b', reason: 'excess' },
      ]);
      expect(plan.excessSince).toBeNull();
    });

    it('clears excessSince as soon as the excess is gone', () => {
      const plan = planScaleDown(
        down({ ready: [ready('a', 50), ready('b', 40)], excessSince: secondsAgo(100) }),
      );
      expect(plan).toEqual({ retire: [], excessSince: null });
    });

    it('clears excessSince when below target', () => {
      const plan = planScaleDown(down({ target: 4, ready: four.slice(0, 1), excessSince: NOW }));
      expect(plan.excessSince).toBeNull();
    });

    it('retires at once with a delay of 0', () => {
      const plan = planScaleDown(down({ target: 3, ready: four, scaleDownDelaySeconds: 0 }));
      expect(plan).toEqual({ retire: [{ id: 'a', reason: 'excess' }], excessSince: null });
    });

    it('retires everything ready for a target of 0 after the delay', () => {
      const plan = planScaleDown(down({ target: 0, ready: four, excessSince: secondsAgo(301) }));
      expect(plan.retire.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
    });

    it('does not mutate its input', () => {
      const input = down({ ready: [...four], scaleDownDelaySeconds: 0 });
      planScaleDown(input);
      expect(input.ready.map((c) => c.id)).toEqual(['c', 'a', 'd', 'b']);
    });
  });

  it.each<[string, Partial<ScaleDownInput>, [string, string][], Date | null]>([
    [
      'idle + rotation + excess in one pass',
      {
        target: 1,
        scaleDownDelaySeconds: 0,
        ready: [ready('i', 5000), ready('o', 100, 1), ready('n1', 90), ready('n2', 80)],
      },
      [
        ['i', 'idle'],
        ['o', 'rotation'],
        ['n1', 'excess'],
      ],
      null,
    ],
    [
      'old version kept to cover the target, no excess',
      {
        target: 2,
        ready: [ready('o1', 100, 1), ready('o2', 90, 1)],
      },
      [],
      null,
    ],
    [
      'rotation only eats the spare, the rest is excess-free',
      {
        target: 2,
        excessSince: secondsAgo(1000),
        ready: [ready('o1', 100, 1), ready('o2', 90, 1), ready('n1', 80)],
      },
      [['o1', 'rotation']],
      null,
    ],
    [
      'excess waits: nothing retired, clock started',
      {
        target: 1,
        ready: [ready('n1', 80), ready('n2', 70)],
      },
      [],
      NOW,
    ],
    [
      'idle retirement does not start the excess clock',
      {
        target: 1,
        ready: [ready('i', 5000), ready('n1', 80)],
      },
      [['i', 'idle']],
      null,
    ],
    [
      'everything idle, target 3',
      {
        target: 3,
        ready: [ready('i1', 5000), ready('i2', 6000, 1)],
      },
      [
        ['i2', 'idle'],
        ['i1', 'idle'],
      ],
      null,
    ],
  ])('%s', (_name, patch, retire, excessSince) => {
    const plan = planScaleDown(down(patch));
    expect(plan.retire.map((r) => [r.id, r.reason])).toEqual(retire);
    expect(plan.excessSince).toEqual(excessSince);
  });

  it('never retires below target except for idle age', () => {
    for (let target = 0; target <= 6; target++) {
      for (let olds = 0; olds <= 5; olds++) {
        const containers = Array.from({ length: 5 }, (_, i) =>
          ready(`c${i}`, 100 - i, i < olds ? 1 : 2),
        );
        const plan = planScaleDown(down({ target, ready: containers, scaleDownDelaySeconds: 0 }));
        const left = containers.length - plan.retire.length;
        expect(left).toBe(Math.min(containers.length, target));
        expect(plan.retire.every((r) => r.reason !== 'idle')).toBe(true);
      }
    }
  });
});

import { activeScheduleMinReady, cronProblem, windowContains } from '../../src/reconciler/schedule';
import type { PoolSchedule } from '../../src/pools/pool.entity';

const at = (iso: string): Date => new Date(iso);

describe('windowContains', () => {
  const daily8Utc: PoolSchedule = {
    cron: '0 8 * * *',
    durationMinutes: 60,
    timezone: 'UTC',
    minReady: 5,
  };

  it.each([
    ['2024-03-04T07:59:59.999Z', false, 'just before the start'],
    ['2024-03-04T08:00:00.000Z', true, 'exactly at the start (inclusive)'],
    ['2024-03-04T08:00:00.001Z', true, 'just after the start'],
    ['2024-03-04T08:30:00.000Z', true, 'in the middle'],
    ['2024-03-04T08:59:59.999Z', true, 'just before the end'],
    ['2024-03-04T09:00:00.000Z', false, 'exactly at the end (exclusive)'],
    ['2024-03-04T20:00:00.000Z', false, 'long after'],
  ])('UTC 08:00 for 60 min at %s → %s (%s)', (now, expected) => {
    expect(windowContains(daily8Utc, at(now))).toBe(expected);
  });

  const london: PoolSchedule = {
    cron: '0 8 * * *',
    durationMinutes: 60,
    timezone: 'Europe/London',
    minReady: 5,
  };

  it.each([
    // GMT (UTC+0) before the spring change on 2024-03-31.
    ['2024-03-30T08:00:00.000Z', true],
    ['2024-03-30T07:00:00.000Z', false],
    // BST (UTC+1): 08:00 London is 07:00 UTC.
    ['2024-03-31T06:59:59.999Z', false],
    ['2024-03-31T07:00:00.000Z', true],
    ['2024-03-31T07:59:59.999Z', true],
    ['2024-03-31T08:00:00.000Z', false],
    ['2024-07-15T07:30:00.000Z', true],
    ['2024-07-15T08:30:00.000Z', false],
    // Back to GMT on 2024-10-27.
    ['2024-10-26T07:00:00.000Z', true],
    ['2024-10-26T08:00:00.000Z', false],
    ['2024-10-27T07:59:00.000Z', false],
    ['2024-10-27T08:00:00.000Z', true],
  ])('Europe/London 08:00 local across DST at %s → %s', (now, expected) => {
    expect(windowContains(london, at(now))).toBe(expected);
  });

  it('follows the named timezone, not UTC', () => {
    const tokyo: PoolSchedule = { ...daily8Utc, timezone: 'Asia/Tokyo' };
    // 08:00 in Tokyo (UTC+9, no DST) is 23:00 UTC the day before.
    expect(windowContains(tokyo, at('2024-03-03T23:00:00.000Z'))).toBe(true);
    expect(windowContains(tokyo, at('2024-03-04T08:00:00.000Z'))).toBe(false);
  });

  describe('weekday ranges', () => {
    const weekdays: PoolSchedule = {
      cron: '0 8 * * 1-5',
      durationMinutes: 600,
      timezone: 'UTC',
      minReady: 40,
    };

    it.each([
      ['2024-03-04T10:00:00.000Z', true, 'Monday'],
      ['2024-03-08T17:59:59.999Z', true, 'Friday, last millisecond'],
      ['2024-03-08T18:00:00.000Z', false, 'Friday, at the end'],
      ['2024-03-09T10:00:00.000Z', false, 'Saturday'],
      ['2024-03-10T10:00:00.000Z', false, 'Sunday'],
      ['2024-03-04T07:59:00.000Z', false, 'Monday before the start'],
    ])('%s → %s (%s)', (now, expected) => {
      expect(windowContains(weekdays, at(now))).toBe(expected);
    });
  });

  it('handles a window that spans midnight', () => {
    const night: PoolSchedule = {
      cron: '0 22 * * *',
      durationMinutes: 240,
      timezone: 'UTC',
      minReady: 1,
    };
    expect(windowContains(night, at('2024-03-05T01:30:00.000Z'))).toBe(true);
    expect(windowContains(night, at('2024-03-05T02:00:00.000Z'))).toBe(false);
  });

  it('accepts a 6-field (seconds) expression', () => {
    const s: PoolSchedule = {
      cron: '30 0 8 * * *',
      durationMinutes: 1,
      timezone: 'UTC',
      minReady: 1,
    };
    expect(windowContains(s, at('2024-03-04T08:00:30.000Z'))).toBe(true);
    expect(windowContains(s, at('2024-03-04T08:00:29.999Z'))).toBe(false);
    expect(windowContains(s, at('2024-03-04T08:01:30.000Z'))).toBe(false);
  });
});

describe('activeScheduleMinReady', () => {
  const morning: PoolSchedule = {
    cron: '0 8 * * *',
    durationMinutes: 240,
    timezone: 'UTC',
    minReady: 10,
  };
  const lunch: PoolSchedule = {
    cron: '0 11 * * *',
    durationMinutes: 120,
    timezone: 'UTC',
    minReady: 3,
  };

  it('is null without schedules', () => {
    expect(activeScheduleMinReady([], at('2024-03-04T09:00:00Z'))).toBeNull();
  });

  it('is null when no window contains now', () => {
    expect(activeScheduleMinReady([morning, lunch], at('2024-03-04T20:00:00Z'))).toBeNull();
  });

  it('is the minReady of the only matching window', () => {
    expect(activeScheduleMinReady([morning, lunch], at('2024-03-04T09:00:00Z'))).toBe(10);
    expect(activeScheduleMinReady([morning, lunch], at('2024-03-04T12:30:00Z'))).toBe(3);
  });

  it('lets the last matching schedule win, even with a lower minReady', () => {
    expect(activeScheduleMinReady([morning, lunch], at('2024-03-04T11:30:00Z'))).toBe(3);
    expect(activeScheduleMinReady([lunch, morning], at('2024-03-04T11:30:00Z'))).toBe(10);
  });

  it('returns 0 from a matching window of minReady 0 (not null)', () => {
    const off: PoolSchedule = { ...morning, minReady: 0 };
    expect(activeScheduleMinReady([off], at('2024-03-04T09:00:00Z'))).toBe(0);
  });

  it('ignores a later schedule that does not match', () => {
    const weekend: PoolSchedule = { ...lunch, cron: '0 11 * * 6,0' };
    expect(activeScheduleMinReady([morning, weekend], at('2024-03-04T11:30:00Z'))).toBe(10);
  });
});

describe('cronProblem', () => {
  it.each(['0 8 * * 1-5', '*/5 * * * *', '0 0 8 * * 1-5', '30 22 1 1 *', '0 8 * * MON-FRI'])(
    'accepts %j',
    (cron) => {
      expect(cronProblem(cron)).toBeNull();
    },
  );

  it('accepts a valid timezone', () => {
    expect(cronProblem('0 8 * * *', 'Europe/London')).toBeNull();
  });

  it.each([
    'hello',
    '61 * * * *',
    '0 25 * * *',
    '0 8 32 * *',
    '0 8 * 13 *',
    '0 8 * * 8',
    '*/0 * * * *',
    '* * * * * * *',
  ])('rejects %j with a message', (cron) => {
    const problem = cronProblem(cron);
    expect(typeof problem).toBe('string');
    expect(problem!.length).toBeGreaterThan(0);
  });

  // cron-parser fills missing fields with '*', so these would read as "every minute"
  // although the API asks for a 5- or 6-field expression.
  it.each(['', '   ', '* * * *', '0 8'])('rejects %j (not 5 or 6 fields)', (cron) => {
    expect(cronProblem(cron)).not.toBeNull();
  });

  it('rejects an unknown timezone', () => {
    expect(cronProblem('0 8 * * *', 'Mars/Olympus')).not.toBeNull();
  });
});

import { ValidationFailedError } from '../../src/common/errors';
import {
  checkPoolSettings,
  PoolSettings,
  PoolSettingsInput,
  settingsFromPatch,
  settingsFromPut,
} from '../../src/pools/pool-rules';

function failure(fn: () => unknown): ValidationFailedError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationFailedError);
    return err as ValidationFailedError;
  }
  throw new Error('expected a ValidationFailedError, nothing was thrown');
}

const fieldsOf = (err: ValidationFailedError): string[] =>
  (err.details.fields as { field: string }[]).map((f) => f.field);

describe('settingsFromPut defaults', () => {
  it('fills every default for an empty body', () => {
    expect(settingsFromPut({})).toEqual({
      resources: { network: 'isolated' },
      minReady: 1,
      maxReady: 50,
      maxTotal: 100,
      defaultLeaseSeconds: 3600,
      maxLeaseSeconds: 21_600,
      maxIdleSeconds: 86_400,
      scaleDownDelaySeconds: 300,
      recycle: 'destroy',
      schedules: [],
      predictive: null,
    });
  });

  it.each<[string, PoolSettingsInput, Pick<PoolSettings, 'minReady' | 'maxReady' | 'maxTotal'>]>([
    [
      'minReady 80 alone raises maxReady',
      { minReady: 80 },
      { minReady: 80, maxReady: 80, maxTotal: 100 },
    ],
    [
      'minReady 150 alone raises both',
      { minReady: 150 },
      { minReady: 150, maxReady: 150, maxTotal: 150 },
    ],
    ['minReady 0', { minReady: 0 }, { minReady: 0, maxReady: 50, maxTotal: 100 }],
    [
      'maxReady 200 alone raises maxTotal',
      { maxReady: 200 },
      { minReady: 1, maxReady: 200, maxTotal: 200 },
    ],
    ['maxReady 10 alone', { maxReady: 10 }, { minReady: 1, maxReady: 10, maxTotal: 100 }],
    [
      'all three given',
      { minReady: 2, maxReady: 10, maxTotal: 10 },
      { minReady: 2, maxReady: 10, maxTotal: 10 },
    ],
    ['maxTotal 500 alone', { maxTotal: 500 }, { minReady: 1, maxReady: 50, maxTotal: 500 }],
  ])('%s', (_name, input, expected) => {
    expect(settingsFromPut(input)).toMatchObject(expected);
  });

  // "limits that are omitted follow the ones given": maxTotal alone must not clash with
  // the default maxReady of 50, as minReady alone does not clash with it.
  it('maxTotal 20 alone is valid: the omitted maxReady follows it down', () => {
    expect(settingsFromPut({ maxTotal: 20 })).toMatchObject({ maxReady: 20, maxTotal: 20 });
  });

  it.each<[string, PoolSettingsInput, number, number]>([
    ['defaults', {}, 3600, 21_600],
    [
      'defaultLeaseSeconds above 6 h raises maxLeaseSeconds',
      { defaultLeaseSeconds: 30_000 },
      30_000,
      30_000,
    ],
    ['defaultLeaseSeconds below the default', { defaultLeaseSeconds: 60 }, 60, 21_600],
    ['maxLeaseSeconds below 1 h lowers defaultLeaseSeconds', { maxLeaseSeconds: 600 }, 600, 600],
    ['maxLeaseSeconds above the default', { maxLeaseSeconds: 86_400 }, 3600, 86_400],
  ])('lease seconds: %s', (_name, input, defaultLeaseSeconds, maxLeaseSeconds) => {
    expect(settingsFromPut(input)).toMatchObject({ defaultLeaseSeconds, maxLeaseSeconds });
  });

  it('keeps the resources given and defaults the network to isolated', () => {
    expect(settingsFromPut({ resources: { cpus: 2, memoryMb: 2048 } }).resources).toEqual({
      cpus: 2,
      memoryMb: 2048,
      network: 'isolated',
    });
    expect(settingsFromPut({ resources: { network: 'none', iops: 0 } }).resources).toEqual({
      network: 'none',
      iops: 0,
    });
  });

  it('drops keys that are not resource limits', () => {
    const input = { resources: { cpus: 1, bogus: 5 } } as unknown as PoolSettingsInput;
    expect(settingsFromPut(input).resources).toEqual({ cpus: 1, network: 'isolated' });
  });

  it('defaults a schedule timezone to UTC and keeps a given one', () => {
    const settings = settingsFromPut({
      schedules: [
        { cron: '0 8 * * 1-5', durationMinutes: 600, minReady: 5 },
        { cron: '0 9 * * *', durationMinutes: 60, minReady: 3, timezone: 'Europe/London' },
      ],
    });
    expect(settings.schedules).toEqual([
      { cron: '0 8 * * 1-5', durationMinutes: 600, minReady: 5, timezone: 'UTC' },
      { cron: '0 9 * * *', durationMinutes: 60, minReady: 3, timezone: 'Europe/London' },
    ]);
  });

  it('fills predictive defaults', () => {
    expect(settingsFromPut({ predictive: { enabled: true } }).predictive).toEqual({
      enabled: true,
      targetWaitProbability: 0.01,
      windowMinutes: 60,
      seasonalDays: 7,
    });
    expect(
      settingsFromPut({ predictive: { enabled: false, windowMinutes: 15, seasonalDays: 0 } })
        .predictive,
    ).toEqual({ enabled: false, targetWaitProbability: 0.01, windowMinutes: 15, seasonalDays: 0 });
  });

  it('keeps recycle reset', () => {
    expect(settingsFromPut({ recycle: 'reset' }).recycle).toBe('reset');
  });
});

describe('cross-field rules', () => {
  it.each<[string, PoolSettingsInput, string[]]>([
    ['minReady > maxReady', { minReady: 10, maxReady: 5 }, ['minReady']],
    ['maxReady > maxTotal', { maxReady: 20, maxTotal: 10 }, ['maxReady']],
    [
      'defaultLeaseSeconds > maxLeaseSeconds',
      { defaultLeaseSeconds: 7200, maxLeaseSeconds: 3600 },
      ['defaultLeaseSeconds'],
    ],
    [
      'a schedule minReady > maxReady',
      {
        maxReady: 10,
        schedules: [
          { cron: '0 8 * * *', durationMinutes: 60, minReady: 10 },
          { cron: '0 9 * * *', durationMinutes: 60, minReady: 11 },
        ],
      },
      ['schedules.1.minReady'],
    ],
    [
      'several at once',
      {
        minReady: 30,
        maxReady: 20,
        maxTotal: 10,
        defaultLeaseSeconds: 10,
        maxLeaseSeconds: 5,
        schedules: [{ cron: '0 8 * * *', durationMinutes: 60, minReady: 25 }],
      },
      ['minReady', 'maxReady', 'defaultLeaseSeconds', 'schedules.0.minReady'],
    ],
  ])('PUT %s → validation_failed on %j', (_name, input, fields) => {
    const err = failure(() => settingsFromPut(input));
    expect(err.code).toBe('validation_failed');
    expect(fieldsOf(err)).toEqual(fields);
    for (const field of fields) expect(err.message).toContain(field);
  });

  it('rejects minReady > maxTotal when maxReady is omitted', () => {
    const fields = fieldsOf(failure(() => settingsFromPut({ minReady: 20, maxTotal: 10 })));
    expect(fields.length).toBeGreaterThan(0);
    expect(fields.every((f) => f === 'minReady' || f === 'maxReady')).toBe(true);
  });

  it('accepts the boundaries minReady = maxReady = maxTotal', () => {
    expect(() => settingsFromPut({ minReady: 7, maxReady: 7, maxTotal: 7 })).not.toThrow();
    expect(() => settingsFromPut({ defaultLeaseSeconds: 100, maxLeaseSeconds: 100 })).not.toThrow();
    expect(() =>
      settingsFromPut({
        maxReady: 5,
        schedules: [{ cron: '0 8 * * *', durationMinutes: 5, minReady: 5 }],
      }),
    ).not.toThrow();
  });

  it('each problem carries a message', () => {
    const err = failure(() => settingsFromPut({ minReady: 10, maxReady: 5 }));
    expect(err.details.fields).toEqual([
      { field: 'minReady', problems: [expect.stringContaining('maxReady')] },
    ]);
  });

  it('checkPoolSettings returns valid settings unchanged', () => {
    const settings = settingsFromPut({ minReady: 3 });
    expect(checkPoolSettings(settings)).toBe(settings);
  });
});

describe('settingsFromPatch', () => {
  const current: PoolSettings = settingsFromPut({
    resources: { cpus: 2, memoryMb: 2048, network: 'shared' },
    minReady: 5,
    maxReady: 20,
    maxTotal: 40,
    recycle: 'reset',
    schedules: [{ cron: '0 8 * * 1-5', durationMinutes: 600, minReady: 15 }],
    predictive: { enabled: true, windowMinutes: 30 },
  });

  it('changes nothing for an empty patch', () => {
    expect(settingsFromPatch(current, {})).toEqual(current);
  });

  it('changes only the fields given', () => {
    const next = settingsFromPatch(current, { minReady: 8, scaleDownDelaySeconds: 0 });
    expect(next).toEqual({ ...current, minReady: 8, scaleDownDelaySeconds: 0 });
  });

  it('accepts 0 as a value, not as absent', () => {
    expect(settingsFromPatch(current, { minReady: 0 }).minReady).toBe(0);
  });

  it('merges resources key by key', () => {
    expect(settingsFromPatch(current, { resources: { memoryMb: 4096 } }).resources).toEqual({
      cpus: 2,
      memoryMb: 4096,
      network: 'shared',
    });
    expect(settingsFromPatch(current, { resources: { network: 'none' } }).resources).toEqual({
      cpus: 2,
      memoryMb: 2048,
      network: 'none',
    });
  });

  it('does not mutate the current settings', () => {
    const before = JSON.parse(JSON.stringify(current)) as PoolSettings;
    settingsFromPatch(current, { resources: { cpus: 8 }, minReady: 1 });
    expect(JSON.parse(JSON.stringify(current))).toEqual(before);
  });

  it('replaces the schedules as a whole, defaulting their timezone', () => {
    const next = settingsFromPatch(current, {
      schedules: [{ cron: '0 6 * * *', durationMinutes: 30, minReady: 2 }],
    });
    expect(next.schedules).toEqual([
      { cron: '0 6 * * *', durationMinutes: 30, minReady: 2, timezone: 'UTC' },
    ]);
    expect(settingsFromPatch(current, { schedules: [] }).schedules).toEqual([]);
  });

  it('replaces predictive with its defaults filled', () => {
    expect(settingsFromPatch(current, { predictive: { enabled: false } }).predictive).toEqual({
      enabled: false,
      targetWaitProbability: 0.01,
      windowMinutes: 60,
      seasonalDays: 7,
    });
  });

  it('does not derive limits like PUT does', () => {
    const err = failure(() => settingsFromPatch(current, { minReady: 30 }));
    expect(fieldsOf(err)).toEqual(['minReady']);
  });

  it.each<[string, PoolSettingsInput, string[]]>([
    [
      'maxReady below minReady (and the schedule)',
      { maxReady: 4 },
      ['minReady', 'schedules.0.minReady'],
    ],
    ['maxTotal below maxReady', { maxTotal: 19 }, ['maxReady']],
    ['maxReady below a schedule', { maxReady: 14 }, ['schedules.0.minReady']],
    ['maxLeaseSeconds below defaultLeaseSeconds', { maxLeaseSeconds: 60 }, ['defaultLeaseSeconds']],
    [
      'a new schedule above maxReady',
      { schedules: [{ cron: '0 8 * * *', durationMinutes: 5, minReady: 21 }] },
      ['schedules.0.minReady'],
    ],
  ])('%s → validation_failed on %j', (_name, patch, fields) => {
    expect(fieldsOf(failure(() => settingsFromPatch(current, patch)))).toEqual(fields);
  });
});

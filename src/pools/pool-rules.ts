import { FieldProblem, ValidationFailedError } from '../common/errors';
import type { ResourceLimits } from '../drivers/container-driver';
import type { PoolSchedule, PredictiveSettings, RecyclePolicy } from './pool.entity';

/** A pool's tunables with every default applied. */
export interface PoolSettings {
  resources: ResourceLimits;
  minReady: number;
  maxReady: number;
  maxTotal: number;
  defaultLeaseSeconds: number;
  maxLeaseSeconds: number;
  maxIdleSeconds: number;
  scaleDownDelaySeconds: number;
  recycle: RecyclePolicy;
  schedules: PoolSchedule[];
  predictive: PredictiveSettings | null;
}

export interface PoolSettingsInput {
  resources?: Partial<ResourceLimits>;
  minReady?: number;
  maxReady?: number;
  maxTotal?: number;
  defaultLeaseSeconds?: number;
  maxLeaseSeconds?: number;
  maxIdleSeconds?: number;
  scaleDownDelaySeconds?: number;
  recycle?: RecyclePolicy;
  schedules?: { cron: string; durationMinutes: number; timezone?: string; minReady: number }[];
  predictive?: Partial<PredictiveSettings> & { enabled: boolean };
}

function resources(input: Partial<ResourceLimits> | undefined): ResourceLimits {
  const out: ResourceLimits = { network: input?.network ?? 'isolated' };
  for (const key of ['cpus', 'memoryMb', 'swapMb', 'diskMb', 'cpuLimitPercent', 'iops'] as const) {
    if (input?.[key] !== undefined) out[key] = input[key];
  }
  return out;
}

function predictive(input: PoolSettingsInput['predictive']): PredictiveSettings | null {
  if (!input) return null;
  return {
    enabled: input.enabled,
    targetWaitProbability: input.targetWaitProbability ?? 0.01,
    windowMinutes: input.windowMinutes ?? 60,
    seasonalDays: input.seasonalDays ?? 7,
  };
}

/** Defaults for PUT: limits that are omitted follow the ones given, so minReady 80 alone is valid. */
export function settingsFromPut(input: PoolSettingsInput): PoolSettings {
  const minReady = input.minReady ?? 1;
  const maxReady = input.maxReady ?? Math.min(input.maxTotal ?? Infinity, Math.max(50, minReady));
  const maxTotal = input.maxTotal ?? Math.max(100, maxReady);
  const maxLeaseSeconds = input.maxLeaseSeconds ?? Math.max(21_600, input.defaultLeaseSeconds ?? 0);
  return checkPoolSettings({
    resources: resources(input.resources),
    minReady,
    maxReady,
    maxTotal,
    defaultLeaseSeconds: input.defaultLeaseSeconds ?? Math.min(3600, maxLeaseSeconds),
    maxLeaseSeconds,
    maxIdleSeconds: input.maxIdleSeconds ?? 86_400,
    scaleDownDelaySeconds: input.scaleDownDelaySeconds ?? 300,
    recycle: input.recycle ?? 'destroy',
    schedules: (input.schedules ?? []).map((s) => ({ ...s, timezone: s.timezone ?? 'UTC' })),
    predictive: predictive(input.predictive),
  });
}

/** PATCH: only the given fields change (resources merge key by key). */
export function settingsFromPatch(current: PoolSettings, patch: PoolSettingsInput): PoolSettings {
  return checkPoolSettings({
    resources: patch.resources
      ? resources({ ...current.resources, ...patch.resources })
      : current.resources,
    minReady: patch.minReady ?? current.minReady,
    maxReady: patch.maxReady ?? current.maxReady,
    maxTotal: patch.maxTotal ?? current.maxTotal,
    defaultLeaseSeconds: patch.defaultLeaseSeconds ?? current.defaultLeaseSeconds,
    maxLeaseSeconds: patch.maxLeaseSeconds ?? current.maxLeaseSeconds,
    maxIdleSeconds: patch.maxIdleSeconds ?? current.maxIdleSeconds,
    scaleDownDelaySeconds: patch.scaleDownDelaySeconds ?? current.scaleDownDelaySeconds,
    recycle: patch.recycle ?? current.recycle,
    schedules: patch.schedules
      ? patch.schedules.map((s) => ({ ...s, timezone: s.timezone ?? 'UTC' }))
      : current.schedules,
    predictive: patch.predictive ? predictive(patch.predictive) : current.predictive,
  });
}

/** The cross-field rules of API.md; violations are 400 validation_failed. */
export function checkPoolSettings(settings: PoolSettings): PoolSettings {
  const problems: FieldProblem[] = [];
  if (settings.minReady > settings.maxReady) {
    problems.push({ field: 'minReady', problems: ['minReady must be ≤ maxReady'] });
  }
  if (settings.maxReady > settings.maxTotal) {
    problems.push({ field: 'maxReady', problems: ['maxReady must be ≤ maxTotal'] });
  }
  if (settings.defaultLeaseSeconds > settings.maxLeaseSeconds) {
    problems.push({
      field: 'defaultLeaseSeconds',
      problems: ['defaultLeaseSeconds must be ≤ maxLeaseSeconds'],
    });
  }
  settings.schedules.forEach((s, i) => {
    if (s.minReady > settings.maxReady) {
      problems.push({
        field: `schedules.${i}.minReady`,
        problems: ['a schedule minReady must be ≤ maxReady'],
      });
    }
  });
  if (problems.length > 0) {
    throw new ValidationFailedError(
      problems.map((p) => `${p.field}: ${p.problems.join(', ')}`).join('; '),
      problems,
    );
  }
  return settings;
}

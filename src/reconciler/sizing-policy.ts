/**
 * Pool sizing (pure): the ready target, how many to launch and what to retire.
 * The same functions drive the reconciler and any simulation of it.
 */
export type TargetReason = 'schedule' | 'predictive' | 'minReady';

export interface TargetInput {
  minReady: number;
  maxReady: number;
  maxTotal: number;
  leased: number;
  /** minReady of the active schedule window, if one contains now. */
  scheduledMinReady: number | null;
  /** What predictive sizing asks for, if enabled. */
  predicted: number | null;
}

export interface Target {
  target: number;
  reason: TargetReason;
}

export function computeTarget(input: TargetInput): Target {
  let target = input.minReady;
  let reason: TargetReason = 'minReady';
  if (input.scheduledMinReady !== null) {
    target = input.scheduledMinReady;
    reason = 'schedule';
  }
  if (input.predicted !== null && input.predicted > target) {
    target = input.predicted;
    reason = 'predictive';
  }
  target = Math.max(0, Math.min(target, input.maxReady));
  // Leased containers count against maxTotal: never aim for more ready than there is room for.
  target = Math.min(target, Math.max(0, input.maxTotal - input.leased));
  return { target, reason };
}

export interface ScaleUpInput {
  target: number;
  /** Ready containers of the current template version. */
  readyCurrent: number;
  provisioning: number;
  /** Containers being reset that will come back ready (recycle: reset). */
  returning: number;
  /** Containers asked for by lease requests that are waiting. */
  waiting: number;
  /** Every container of the pool that is not destroyed. */
  live: number;
  maxTotal: number;
}

/** Waiters first: their demand comes on top of the ready target, within maxTotal. */
export function scaleUpCount(input: ScaleUpInput): number {
  const wanted =
    input.target + input.waiting - (input.readyCurrent + input.provisioning + input.returning);
  return Math.max(0, Math.min(wanted, input.maxTotal - input.live));
}

export interface ReadyContainer {
  id: string;
  readyAt: Date;
  templateVersion: number;
}

export interface ScaleDownInput {
  target: number;
  ready: ReadyContainer[];
  currentVersion: number;
  now: Date;
  excessSince: Date | null;
  scaleDownDelaySeconds: number;
  maxIdleSeconds: number;
}

export interface ScaleDownPlan {
  retire: { id: string; reason: 'idle' | 'rotation' | 'excess' }[];
  excessSince: Date | null;
}

export function planScaleDown(input: ScaleDownInput): ScaleDownPlan {
  const oldestFirst = [...input.ready].sort((a, b) => a.readyAt.getTime() - b.readyAt.getTime());
  const retire: ScaleDownPlan['retire'] = [];
  const idleBefore = input.now.getTime() - input.maxIdleSeconds * 1000;

  // Idle too long: retire whatever the target says; the backfill brings a fresh clone.
  const remaining: ReadyContainer[] = [];
  for (const c of oldestFirst) {
    if (c.readyAt.getTime() < idleBefore) retire.push({ id: c.id, reason: 'idle' });
    else remaining.push(c);
  }

  // Rotation: old-version containers go only while the rest still covers the target.
  let spare = remaining.length - input.target;
  const kept: ReadyContainer[] = [];
  for (const c of remaining) {
    if (c.templateVersion !== input.currentVersion && spare > 0) {
      retire.push({ id: c.id, reason: 'rotation' });
      spare--;
    } else {
      kept.push(c);
    }
  }

  // Excess: only after it has lasted scaleDownDelaySeconds (hysteresis), oldest first.
  const excess = kept.length - input.target;
  if (excess <= 0) return { retire, excessSince: null };
  const since = input.excessSince ?? input.now;
  if (input.now.getTime() - since.getTime() >= input.scaleDownDelaySeconds * 1000) {
    for (const c of kept.slice(0, excess)) retire.push({ id: c.id, reason: 'excess' });
    return { retire, excessSince: null };
  }
  return { retire, excessSince: since };
}

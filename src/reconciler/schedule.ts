import { CronExpressionParser } from 'cron-parser';
import type { PoolSchedule } from '../pools/pool.entity';

/** Whether a cron expression (with optional timezone) parses; the message when it does not. */
export function cronProblem(cron: string, timezone?: string): string | null {
  // cron-parser fills missing fields with '*': "* * * *" would mean every minute, forever.
  const fields = cron.trim().split(/\s+/).filter(Boolean).length;
  if (fields !== 5 && fields !== 6) return 'a cron expression has 5 or 6 fields';
  try {
    CronExpressionParser.parse(cron, { tz: timezone, currentDate: new Date() });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The window of a schedule that contains `now`, if any: it started at most durationMinutes ago. */
export function windowContains(schedule: PoolSchedule, now: Date): boolean {
  // A start exactly at `now` counts: prev() is strictly before currentDate, so look from +1 ms.
  const expression = CronExpressionParser.parse(schedule.cron, {
    tz: schedule.timezone,
    currentDate: new Date(now.getTime() + 1),
  });
  const start = expression.prev().toDate();
  return now.getTime() - start.getTime() < schedule.durationMinutes * 60_000;
}

/** The last schedule (in declaration order) whose window contains now wins. */
export function activeScheduleMinReady(
  schedules: readonly PoolSchedule[],
  now: Date,
): number | null {
  let minReady: number | null = null;
  for (const schedule of schedules) {
    if (windowContains(schedule, now)) minReady = schedule.minReady;
  }
  return minReady;
}

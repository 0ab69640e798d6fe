import { parseNcrontab } from './ncrontab';
import { parseTimeSpan } from './parseTimeSpan';

export interface TimerSchedule {
  readonly description: string;
  next(after: Date): Date;
}

/**
 * A timer trigger's schedule after `%SETTING%` resolution: NCRONTAB (six fields), or a TimeSpan
 * (`hh:mm:ss`, an interval counted from the previous run; the host allows it on App Service plans
 * only, the dev host always).
 */
export function parseTimerSchedule(expression: string): TimerSchedule {
  const text = expression.trim();
  if (/^[\d.:]+$/.test(text) && text.includes(':')) {
    const interval = parseTimeSpan(text, 'schedule');
    if (interval <= 0) throw new Error(`schedule "${text}": a TimeSpan schedule must be positive`);
    return { description: `every ${text}`, next: (after) => new Date(after.getTime() + interval) };
  }
  const cron = parseNcrontab(text);
  return { description: `cron '${text}'`, next: (after) => cron.next(after) };
}

/** The host's `useMonitor` default: on when occurrences are at least a minute apart. */
export function defaultUseMonitor(schedule: TimerSchedule, now = new Date()): boolean {
  const first = schedule.next(now);
  return schedule.next(first).getTime() - first.getTime() >= 60_000;
}

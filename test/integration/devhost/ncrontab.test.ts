import { describe, expect, it } from 'vitest';
import { parseNcrontab } from '../../../shared/devhost/ncrontab';
import { parseTimerSchedule, defaultUseMonitor } from '../../../shared/devhost/timerSchedule';

// Local-time dates away from DST changes: the schedule runs in the process's time zone.
const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) => new Date(y, mo - 1, d, h, mi, s);

describe('NCRONTAB (six fields, NCrontab semantics)', () => {
  it('requires day AND day-of-week to match (croner/Vixie cron would OR them)', () => {
    // Friday the 13th at noon: the first in 2025 is June 13 (an OR reading would give Friday Jan 3).
    expect(parseNcrontab('0 0 12 13 * 5').next(at(2025, 1, 1))).toEqual(at(2025, 6, 13, 12));
  });

  it('steps, ranges, names and a/n', () => {
    expect(parseNcrontab('*/15 * * * * *').next(at(2025, 3, 3, 10, 0, 7))).toEqual(at(2025, 3, 3, 10, 0, 15));
    expect(parseNcrontab('0 30 9 * * Mon-Fri').next(at(2025, 1, 4, 12))).toEqual(at(2025, 1, 6, 9, 30));
    expect(parseNcrontab('0 0 0 1 jan,Jul *').next(at(2025, 2, 1))).toEqual(at(2025, 7, 1));
    expect(parseNcrontab('5/20 * * * * *').next(at(2025, 3, 3, 0, 0, 6))).toEqual(at(2025, 3, 3, 0, 0, 25));
    expect(parseNcrontab('0 0 */6 * * *').next(at(2025, 3, 3, 6, 0, 0))).toEqual(at(2025, 3, 3, 12));
  });

  it('returns the next occurrence strictly after the base time and skips short months', () => {
    expect(parseNcrontab('0 0 0 31 * *').next(at(2025, 1, 31))).toEqual(at(2025, 3, 31));
  });

  it('rejects what NCrontab rejects', () => {
    expect(() => parseNcrontab('0 */5 * * *')).toThrow(/6 fields/);
    expect(() => parseNcrontab('0 0 0 * * 7')).toThrow(/outside 0-6/);
    expect(() => parseNcrontab('0 0 0 L * *')).toThrow(/day field/);
    expect(() => parseNcrontab('0 0 0 ? * MON')).toThrow(/day field/);
    expect(() => parseNcrontab('0 0 0 1 * MON#2')).toThrow();
    expect(() => parseNcrontab('0 0 0 30 2 *').next(at(2025, 1, 1))).toThrow(/no occurrence/);
  });
});

describe('timer schedules', () => {
  it('accepts a TimeSpan interval and NCRONTAB', () => {
    const base = at(2025, 3, 3, 10);
    expect(parseTimerSchedule('00:00:05').next(base).getTime()).toBe(base.getTime() + 5000);
    expect(parseTimerSchedule('0 */5 * * * *').next(base)).toEqual(at(2025, 3, 3, 10, 5));
  });

  it('defaults useMonitor to on only for schedules at least a minute apart (as the host)', () => {
    expect(defaultUseMonitor(parseTimerSchedule('*/1 * * * * *'))).toBe(false);
    expect(defaultUseMonitor(parseTimerSchedule('0 * * * * *'))).toBe(true);
  });
});

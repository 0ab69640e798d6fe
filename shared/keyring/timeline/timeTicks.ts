import { DAY } from '../dotnetDate';

export interface TimeTick {
  at: number;
  label: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Calendar-aligned ticks (UTC) for [from, to], at most `max` of them: days, weeks (Mondays),
 * months, quarters or years, whichever is the finest step that fits.
 */
export function timeTicks(from: number, to: number, max: number): TimeTick[] {
  const span = to - from;
  for (const days of [1, 2, 7, 14]) {
    if (span / (days * DAY) <= max) return dayTicks(from, to, days);
  }
  for (const months of [1, 2, 3, 6, 12, 24, 60]) {
    if (span / (months * 30.44 * DAY) <= max) return monthTicks(from, to, months);
  }
  return monthTicks(from, to, 12 * Math.ceil(span / (365.25 * DAY * max)));
}

function dayTicks(from: number, to: number, days: number): TimeTick[] {
  let t = Math.ceil(from / DAY) * DAY;
  // Weekly steps start on a Monday (1970-01-01 was a Thursday).
  if (days % 7 === 0) while (new Date(t).getUTCDay() !== 1) t += DAY;
  const ticks: TimeTick[] = [];
  for (; t <= to; t += days * DAY) {
    const d = new Date(t);
    ticks.push({ at: t, label: `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}` });
  }
  return ticks;
}

function monthTicks(from: number, to: number, months: number): TimeTick[] {
  const start = new Date(from);
  // Absolute month index, aligned down to the step so ticks land on Jan/Apr/Jul/Oct and so on.
  let index = Math.floor((start.getUTCFullYear() * 12 + start.getUTCMonth()) / months) * months;
  const ticks: TimeTick[] = [];
  for (; ; index += months) {
    const year = Math.floor(index / 12);
    const month = index % 12;
    const t = Date.UTC(year, month, 1);
    if (t > to) break;
    if (t >= from) ticks.push({ at: t, label: month === 0 || months >= 12 ? String(year) : `${MONTHS[month]} ${year}` });
  }
  return ticks;
}

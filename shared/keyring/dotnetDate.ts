/**
 * xsd:dateTime as .NET's XmlConvert writes and reads DateTimeOffset values in key ring XML.
 * Instants are JavaScript milliseconds since the epoch; a fraction finer than 1 ms (.NET writes up
 * to 7 digits) is kept in the fractional part of the number, good to well under a microsecond.
 */
const XSD_DATE_TIME = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/** Parses an xsd:dateTime; undefined when it is not one. A missing offset is taken as UTC. */
export function parseDotnetDate(text: string): number | undefined {
  const m = XSD_DATE_TIME.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zone] = m;
  const year = Number(y),
    month = Number(mo),
    day = Number(d),
    hour = Number(h),
    minute = Number(mi),
    second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (year < 100) ms = new Date(ms).setUTCFullYear(year);
  if (fraction) ms += Number(`0${fraction}`) * 1000;
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const [zh, zm] = zone.slice(1).split(':').map(Number) as [number, number];
    if (zh > 14 || zm > 59) return undefined;
    ms -= sign * (zh * 60 + zm) * 60_000;
  }
  return ms;
}

/** UTC with `Z`, trailing zeros of the fraction trimmed and no fraction for whole seconds, like .NET. */
export function formatDotnetDate(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // yyyy-MM-ddTHH:mm:ss.fffZ
  const ticks = Math.min(9_999_999, Math.round((ms - Math.floor(ms / 1000) * 1000) * 10_000)); // 100 ns units within the second
  const fraction = ticks === 0 ? '' : `.${String(ticks).padStart(7, '0').replace(/0+$/, '')}`;
  return `${iso.slice(0, 19)}${fraction}Z`;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/**
 * Parses a .NET TimeSpan string as host.json uses them (`hh:mm:ss`, `d.hh:mm:ss.fff`, `hh:mm`) into
 * milliseconds. A bare integer is days, as TimeSpan.Parse reads it. Throws on anything else.
 */
export function parseTimeSpan(value: string | number, where: string): number {
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text) * 86_400_000;
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(text);
  if (!m) throw new Error(`${where}: "${text}" is not a TimeSpan (expected hh:mm:ss)`);
  const [, days, hours, minutes, seconds, fraction] = m;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds ?? 0) > 59) {
    throw new Error(`${where}: "${text}" is out of range (hours 0-23, minutes and seconds 0-59)`);
  }
  const ms = fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0;
  return (((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds ?? 0)) * 1000 + ms;
}

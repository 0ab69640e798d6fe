import { describe, expect, it } from 'vitest';
import { formatDotnetDate, parseDotnetDate } from '../../../shared/keyring/dotnetDate';

describe('xsd:dateTime as .NET writes DateTimeOffset', () => {
  it.each([
    ['2015-01-01T00:00:00Z', Date.UTC(2015, 0, 1)],
    ['2024-12-19T10:20:37.084Z', Date.UTC(2024, 11, 19, 10, 20, 37, 84)],
    ['2024-12-19T10:20:37.5Z', Date.UTC(2024, 11, 19, 10, 20, 37, 500)],
  ])('formats %s like XmlConvert (UTC, Z, fraction trimmed)', (text, ms) => {
    expect(formatDotnetDate(ms)).toBe(text);
    expect(parseDotnetDate(text)).toBe(ms);
  });

  it('keeps sub-millisecond fractions written by .NET to well under a microsecond', () => {
    // Instants are doubles in ms: at today's magnitude they resolve ~0.25 µs, not .NET's 100 ns ticks.
    const ms = parseDotnetDate('2024-12-19T10:20:37.0840255Z')!;
    expect(ms - Date.UTC(2024, 11, 19, 10, 20, 37, 84)).toBeCloseTo(0.0255, 3);
    expect(formatDotnetDate(ms)).toMatch(/^2024-12-19T10:20:37\.084025\dZ$/);
    expect(parseDotnetDate('2024-12-19T10:20:37.0840255Z')! < parseDotnetDate('2024-12-19T10:20:37.0840265Z')!).toBe(true);
  });

  it('reads a non-UTC offset as the same instant (XmlKeyManagerTests.RevokeAllKeys)', () => {
    expect(parseDotnetDate('2015-03-01T19:13:19.7573854-08:00')).toBeCloseTo(Date.UTC(2015, 2, 2, 3, 13, 19, 757) + 0.3854, 3);
  });

  it.each(['', 'yesterday', '2015-13-01T00:00:00Z', '2015-02-30T00:00:00Z', '2015-01-01 00:00:00Z', '2015-01-01T24:00:00Z', '2015-01-01T00:00:00+15:00'])('refuses %j', (text) => {
    expect(parseDotnetDate(text)).toBeUndefined();
  });
});

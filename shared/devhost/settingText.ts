/**
 * A binding, host.json or local setting value as text: strings as they are, absent values empty,
 * anything else as JSON (so a misplaced object reads as itself in the error, not as [object Object]).
 */
export function settingText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return JSON.stringify(value) ?? '';
}

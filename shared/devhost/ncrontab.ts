/**
 * NCRONTAB, the six-field cron dialect of the Functions timer trigger (NCrontab with
 * IncludingSeconds): `{second} {minute} {hour} {day} {month} {day-of-week}`. Written here rather
 * than using croner so the semantics match NCrontab exactly:
 * - day and day-of-week must BOTH match (croner's default, like Vixie cron, ORs them);
 * - day-of-week is 0-6 (7 is rejected); names match by prefix, case-insensitively (`Mon`, `Monday`);
 * - `a/n` means from a to the field's maximum every n; no `L`, `W`, `#` or `?`.
 * Times are the process's local time zone, like the host's `DateTime.Now` (UTC in Azure).
 */
export interface CronSchedule {
  readonly expression: string;
  /** The first occurrence strictly after `after`. */
  next(after: Date): Date;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: readonly [FieldSpec, FieldSpec, FieldSpec, FieldSpec, FieldSpec, FieldSpec] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'],
  },
  { name: 'day-of-week', min: 0, max: 6, names: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] },
];

/** Searching further than this means the schedule cannot occur (e.g. `0 0 0 30 2 *`). */
const SEARCH_LIMIT_YEARS = 5;

export function parseNcrontab(expression: string): CronSchedule {
  const [s, mi, h, d, mo, w, ...extra] = expression.trim().split(/\s+/).filter(Boolean);
  if (s === undefined || mi === undefined || h === undefined || d === undefined || mo === undefined || w === undefined || extra.length > 0) {
    throw new Error(`'${expression}' is an invalid NCRONTAB expression: it must contain 6 fields (second minute hour day month day-of-week)`);
  }
  const [second, minute, hour, day, month, weekday] = FIELDS;
  const seconds = parseField(s, second, expression);
  const minutes = parseField(mi, minute, expression);
  const hours = parseField(h, hour, expression);
  const days = parseField(d, day, expression);
  const months = parseField(mo, month, expression);
  const weekdays = parseField(w, weekday, expression);
  return {
    expression,
    next(after: Date): Date {
      const t = new Date(after.getTime());
      t.setMilliseconds(0);
      t.setSeconds(t.getSeconds() + 1);
      const limit = after.getTime() + SEARCH_LIMIT_YEARS * 366 * 86_400_000;
      while (t.getTime() <= limit) {
        if (!months.has(t.getMonth() + 1)) {
          t.setMonth(t.getMonth() + 1, 1);
          t.setHours(0, 0, 0, 0);
        } else if (!days.has(t.getDate()) || !weekdays.has(t.getDay())) {
          t.setDate(t.getDate() + 1);
          t.setHours(0, 0, 0, 0);
        } else if (!hours.has(t.getHours())) {
          t.setHours(t.getHours() + 1, 0, 0, 0);
        } else if (!minutes.has(t.getMinutes())) {
          t.setMinutes(t.getMinutes() + 1, 0, 0);
        } else if (!seconds.has(t.getSeconds())) {
          t.setSeconds(t.getSeconds() + 1, 0);
        } else {
          return t;
        }
      }
      throw new Error(`'${expression}' has no occurrence within ${SEARCH_LIMIT_YEARS} years`);
    },
  };
}

function parseField(token: string, spec: FieldSpec, expression: string): Set<number> {
  const values = new Set<number>();
  const fail = (why: string): never => {
    throw new Error(`'${token}' is not a valid ${spec.name} field in '${expression}': ${why}`);
  };
  for (const part of token.split(',')) {
    if (part === '') fail('empty list element');
    let range = part;
    let step = 1;
    const slash = part.indexOf('/');
    if (slash >= 0) {
      if (!/^\d+$/.test(part.slice(slash + 1))) fail('the step must be a positive integer');
      step = Number(part.slice(slash + 1));
      if (step === 0) fail('the step must be a positive integer');
      range = part.slice(0, slash);
    }
    let first: number;
    let last: number;
    if (range === '*') {
      first = spec.min;
      last = spec.max;
    } else if (range.indexOf('-') > 0) {
      const dash = range.indexOf('-');
      first = parseValue(range.slice(0, dash), spec, fail);
      last = parseValue(range.slice(dash + 1), spec, fail);
    } else {
      first = parseValue(range, spec, fail);
      last = slash >= 0 ? spec.max : first;
    }
    if (first > last) fail(`the range ${first}-${last} is reversed`);
    for (let v = first; v <= last; v += step) values.add(v);
  }
  return values;
}

function parseValue(text: string, spec: FieldSpec, fail: (why: string) => never): number {
  if (text === '') fail('empty value');
  let value: number;
  if (/^\d+$/.test(text)) value = Number(text);
  else {
    const lower = text.toLowerCase();
    const index = spec.names?.findIndex((n) => n.startsWith(lower)) ?? -1;
    if (index < 0) fail(spec.names ? `'${text}' is not a known ${spec.name} name` : 'not a number');
    value = index + spec.min;
  }
  if (value < spec.min || value > spec.max) fail(`${value} is outside ${spec.min}-${spec.max}`);
  return value;
}

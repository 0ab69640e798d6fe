import { parseInstant } from '../app/parseInstant';

/** A command line the user got wrong: exit 2 with this message. */
export class UsageError extends Error {
  readonly code = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** Flags that take a value (`--ring NAME` or `--ring=NAME`); listed in `repeatable` when they may repeat. */
  values?: string[];
  booleans?: string[];
  repeatable?: string[];
}

export interface ParsedArgs {
  values: Map<string, string[]>;
  booleans: Set<string>;
  positionals: string[];
}

export function parseArgs(args: readonly string[], spec: FlagSpec, command: string): ParsedArgs {
  const values = new Map<string, string[]>();
  const booleans = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (spec.booleans?.includes(name)) {
      if (eq >= 0) throw new UsageError(`${command}: --${name} takes no value`);
      booleans.add(name);
    } else if (spec.values?.includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${command}: --${name} needs a value`);
      const list = values.get(name) ?? [];
      if (list.length > 0 && !spec.repeatable?.includes(name)) throw new UsageError(`${command}: --${name} given twice`);
      values.set(name, [...list, value]);
    } else {
      throw new UsageError(`${command}: unknown option --${name}`);
    }
  }
  return { values, booleans, positionals };
}

export function single(parsed: ParsedArgs, name: string): string | undefined {
  return parsed.values.get(name)?.[0];
}

/** An ISO 8601 time flag (`--at`, `--now`). */
export function timeFlag(parsed: ParsedArgs, name: string, command: string): number | undefined {
  const text = single(parsed, name);
  if (text === undefined) return undefined;
  const ms = parseInstant(text);
  if (ms === undefined) throw new UsageError(`${command}: --${name} "${text}" is not an ISO 8601 time (or not a date that exists)`);
  return ms;
}

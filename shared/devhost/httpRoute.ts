/**
 * ASP.NET Core route templates as the Functions host uses them for HTTP triggers: literal segments
 * (case-insensitive), `{name}`, `{name?}`, `{name=default}`, `{*rest}` catch-all, constraints such
 * as `{ring:alpha}`, `{n:int:min(1)}`, `{id:regex(^[a-z]+$)}`, and several parameters in one
 * segment (`{name}.{ext}`). Matching order follows ASP.NET's route precedence.
 */
export interface CompiledRoute {
  readonly template: string;
  /** Per-segment precedence digits: literal 1, complex 2, constrained 3, parameter 4, catch-all 5. */
  readonly precedence: number[];
  /** Route values for a path (`/api/x/y`, no query), or undefined. */
  match(pathname: string): Record<string, string> | undefined;
}

interface Parameter {
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue?: string;
  constraints: ((value: string) => boolean)[];
}

type Part = { literal: string } | { parameter: Parameter };

export function compileRoute(template: string): CompiledRoute {
  const trimmed = template.replace(/^[~/]+|\/+$/g, '');
  const segments = trimmed === '' ? [] : splitSegments(trimmed);
  const parameters: Parameter[] = [];
  const precedence: number[] = [];
  let source = '^';
  segments.forEach((segment, index) => {
    const parts = parseSegment(segment, template);
    const params = parts.filter((p): p is { parameter: Parameter } => 'parameter' in p).map((p) => p.parameter);
    parameters.push(...params);
    if (params.some((p) => p.catchAll) && index !== segments.length - 1) {
      throw new Error(`route '${template}': a catch-all parameter can only be the last segment`);
    }
    const [only] = parts;
    if (parts.length === 1 && only && 'parameter' in only) {
      const p = only.parameter;
      precedence.push(p.catchAll ? 5 : p.constraints.length ? 3 : 4);
      const group = `(?<${groupName(p.name)}>${p.catchAll ? '.*' : '[^/]+'})`;
      source += p.optional || p.catchAll || p.defaultValue !== undefined ? `(?:/${group})?` : `/${group}`;
    } else {
      precedence.push(parts.length === 1 ? 1 : 2);
      source += '/';
      parts.forEach((part) => {
        if ('literal' in part) source += escapeRegExp(part.literal);
        else {
          // Greedy, so `{name}.{ext}` on `a.tar.gz` gives name `a.tar` (ASP.NET matches right to left).
          const group = `(?<${groupName(part.parameter.name)}>[^/]+)`;
          source += part.parameter.optional ? `${group}?` : group;
        }
      });
    }
  });
  const names = new Set<string>();
  for (const p of parameters) {
    const key = p.name.toLowerCase();
    if (names.has(key)) throw new Error(`route '${template}': parameter '${p.name}' appears twice`);
    names.add(key);
  }
  const regex = new RegExp(`${source}/?$`, 'i');
  return {
    template,
    precedence,
    match(pathname) {
      const m = regex.exec(pathname === '' ? '/' : pathname);
      if (!m) return undefined;
      const values: Record<string, string> = {};
      for (const p of parameters) {
        const raw = m.groups?.[groupName(p.name)];
        if (raw === undefined || raw === '') {
          if (p.defaultValue !== undefined) values[p.name] = p.defaultValue;
          continue;
        }
        let value: string;
        try {
          value = p.catchAll ? raw.split('/').map(decodeURIComponent).join('/') : decodeURIComponent(raw);
        } catch {
          return undefined;
        }
        if (!p.constraints.every((check) => check(value))) return undefined;
        values[p.name] = value;
      }
      return values;
    },
  };
}

/** Orders routes the way ASP.NET's precedence does: more specific segments first. */
export function compareRoutes(a: CompiledRoute, b: CompiledRoute): number {
  const n = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < n; i++) {
    const d = (a.precedence[i] ?? 0) - (b.precedence[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.template.localeCompare(b.template);
}

function splitSegments(template: string): string[] {
  // Slashes inside {...} (e.g. a regex constraint) do not split segments.
  const segments: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of template) {
    if (c === '{') depth++;
    if (c === '}') depth = Math.max(0, depth - 1);
    if (c === '/' && depth === 0) {
      segments.push(current);
      current = '';
    } else current += c;
  }
  segments.push(current);
  if (segments.some((s) => s === '')) throw new Error(`route '${template}': empty segment`);
  return segments;
}

function parseSegment(segment: string, template: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < segment.length) {
    if (segment[i] === '{') {
      const end = findClose(segment, i);
      if (end < 0) throw new Error(`route '${template}': unbalanced '{' in '${segment}'`);
      parts.push({ parameter: parseParameter(segment.slice(i + 1, end), template) });
      i = end + 1;
    } else {
      const next = segment.indexOf('{', i);
      const literal = segment.slice(i, next < 0 ? undefined : next);
      if (literal.includes('}')) throw new Error(`route '${template}': unbalanced '}' in '${segment}'`);
      parts.push({ literal });
      i = next < 0 ? segment.length : next;
    }
  }
  for (let k = 1; k < parts.length; k++) {
    const [previous, current] = [parts[k - 1], parts[k]];
    if (previous && current && 'parameter' in current && 'parameter' in previous) {
      throw new Error(`route '${template}': parameters in '${segment}' must be separated by a literal`);
    }
  }
  return parts;
}

function findClose(segment: string, open: number): number {
  let depth = 0;
  for (let i = open; i < segment.length; i++) {
    if (segment[i] === '{') depth++;
    else if (segment[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function parseParameter(body: string, template: string): Parameter {
  let text = body;
  let catchAll = false;
  if (text.startsWith('*')) {
    catchAll = true;
    text = text.slice(text.startsWith('**') ? 2 : 1);
  }
  let defaultValue: string | undefined;
  const eq = indexOutsideParens(text, '=');
  if (eq >= 0) {
    defaultValue = text.slice(eq + 1);
    text = text.slice(0, eq);
  }
  let optional = false;
  if (text.endsWith('?')) {
    optional = true;
    text = text.slice(0, -1);
  }
  const pieces = splitConstraints(text);
  const name = pieces.shift() ?? '';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`route '${template}': '${name}' is not a valid parameter name`);
  return { name, optional, catchAll, defaultValue, constraints: pieces.map((c) => constraint(c, template)) };
}

function indexOutsideParens(text: string, char: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === char && depth === 0) return i;
  }
  return -1;
}

function splitConstraints(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of text) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ':' && depth === 0) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

function constraint(spec: string, template: string): (value: string) => boolean {
  const m = /^([a-zA-Z]+)(?:\((.*)\))?$/.exec(spec);
  if (!m) throw new Error(`route '${template}': cannot parse constraint '${spec}'`);
  const [, rawName = '', arg = ''] = m;
  const name = rawName.toLowerCase();
  const nums = arg.split(',').map((s) => Number(s.trim()));
  // A missing bound is NaN: every comparison with it is false, so the constraint rejects.
  const [n0 = NaN, n1 = NaN] = nums;
  const isNumber = (v: string) => v.trim() !== '' && Number.isFinite(Number(v));
  switch (name) {
    case 'int':
      return (v) => /^[+-]?\d+$/.test(v) && Math.abs(Number(v)) <= 2 ** 31;
    case 'long':
      return (v) => /^[+-]?\d+$/.test(v);
    case 'bool':
      return (v) => /^(true|false)$/i.test(v);
    case 'alpha':
      return (v) => /^[a-z]+$/i.test(v);
    case 'guid':
      return (v) => /^[{(]?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[)}]?$/i.test(v);
    case 'decimal':
    case 'double':
    case 'float':
      return isNumber;
    case 'datetime':
      return (v) => !Number.isNaN(Date.parse(v));
    case 'required':
      return (v) => v !== '';
    case 'minlength':
      return (v) => v.length >= n0;
    case 'maxlength':
      return (v) => v.length <= n0;
    case 'length':
      return nums.length === 1 ? (v) => v.length === n0 : (v) => v.length >= n0 && v.length <= n1;
    case 'min':
      return (v) => isNumber(v) && Number(v) >= n0;
    case 'max':
      return (v) => isNumber(v) && Number(v) <= n0;
    case 'range':
      return (v) => isNumber(v) && Number(v) >= n0 && Number(v) <= n1;
    case 'regex': {
      const re = new RegExp(arg, 'i');
      return (v) => re.test(v);
    }
    default:
      throw new Error(`route '${template}': the constraint '${name}' is not supported`);
  }
}

function groupName(name: string): string {
  return `p_${name}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

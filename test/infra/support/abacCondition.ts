/**
 * Azure role assignment conditions (ABAC, conditionVersion 2.0), the subset infra/ writes:
 * `ActionMatches{'…'}`, `SubOperationMatches{'…'}`, `@Resource[…]`/`@Request[…]` with `StringStartsWith`
 * `StringEquals` or `StringNotEquals`, `!`/`NOT`, `AND`, `OR` and parentheses (conditions-format.md). Tests use it to ask
 * "would this request be allowed?" of the exact condition string a deployment would carry.
 * Anything else throws, so an unfamiliar condition can never pass by accident.
 */

/** One storage request as a condition sees it. Missing attributes make their comparison false. */
export interface AbacRequest {
  action: string;
  subOperation?: string;
  attributes: Record<string, string>;
}

type Token = { kind: 'op' | 'word' | 'string' | 'attr' | 'braced'; text: string };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const re = /\s+|(\(|\)|!)|(@(?:Resource|Request|Principal|Environment)\[[^\]]+\])|'((?:[^'\\]|\\.)*)'|([A-Za-z]+)\{'([^']*)'\}|([A-Za-z:]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    m = re.exec(text);
    if (!m || m[0].length === 0) throw new Error(`condition: cannot read "${text.slice(at, at + 30)}"`);
    at = re.lastIndex;
    if (m[1]) out.push({ kind: 'op', text: m[1] });
    else if (m[2]) out.push({ kind: 'attr', text: m[2] });
    else if (m[3] !== undefined) out.push({ kind: 'string', text: m[3] });
    else if (m[4]) out.push({ kind: 'braced', text: `${m[4]}\u0000${m[5]}` });
    else if (m[6]) out.push({ kind: 'word', text: m[6] });
  }
  return out;
}

export function evaluateCondition(condition: string, request: AbacRequest): boolean {
  const tokens = tokenize(condition);
  let i = 0;
  const peek = () => tokens[i];
  const take = () => {
    const t = tokens[i++];
    if (!t) throw new Error('condition: unexpected end');
    return t;
  };
  const or = (): boolean => {
    let v = and();
    while (peek()?.kind === 'word' && peek()!.text === 'OR') {
      i++;
      const r = and();
      v = v || r;
    }
    return v;
  };
  const and = (): boolean => {
    let v = unary();
    while (peek()?.kind === 'word' && peek()!.text === 'AND') {
      i++;
      const r = unary();
      v = v && r;
    }
    return v;
  };
  const unary = (): boolean => {
    const t = take();
    if ((t.kind === 'op' && t.text === '!') || (t.kind === 'word' && t.text === 'NOT')) return !unary();
    if (t.kind === 'op' && t.text === '(') {
      const v = or();
      const close = take();
      if (close.text !== ')') throw new Error(`condition: expected ) but found ${close.text}`);
      return v;
    }
    if (t.kind === 'braced') {
      const [fn, arg] = t.text.split('\u0000') as [string, string];
      if (fn === 'ActionMatches') return request.action === arg;
      if (fn === 'SubOperationMatches') return request.subOperation === arg;
      throw new Error(`condition: unsupported ${fn}`);
    }
    if (t.kind === 'attr') {
      const op = take();
      const value = take();
      if (op.kind !== 'word' || value.kind !== 'string') throw new Error(`condition: expected <operator> '<value>' after ${t.text}`);
      const actual = request.attributes[t.text];
      if (actual === undefined) return false;
      // StringStartsWith/StringEquals are case-sensitive (conditions-format.md); infra/ compares lowercase
      // names only, and ignoring case here can only make a "must be refused" probe stricter.
      const [a, b] = [actual.toLowerCase(), value.text.toLowerCase()];
      if (op.text === 'StringStartsWith') return a.startsWith(b);
      if (op.text === 'StringEquals') return a === b;
      // Exact here: folding case would make a negated comparison refuse more than Azure does.
      if (op.text === 'StringNotEquals') return actual !== value.text;
      throw new Error(`condition: unsupported operator ${op.text}`);
    }
    throw new Error(`condition: unexpected ${t.text}`);
  };
  const v = or();
  if (i !== tokens.length) throw new Error(`condition: trailing ${tokens.slice(i).map((t) => t.text).join(' ')}`);
  return v;
}

/**
 * A strict, offline evaluator for the subset of Bicep that infra/ uses, kept for one job the
 * compiler cannot do: deployment semantics.
 *
 * The real Bicep CLI (support/bicepCli.ts) judges syntax, types, API versions and lint, and the
 * tests read its ARM JSON for every static fact. What ARM JSON leaves as expressions (which
 * container a slot's role assignment really lands on, whose identity holds it, what a loop over
 * `['staging','qa']` produces) is what isolation depends on, so this parses the templates with
 * tree-sitter-bicep and evaluates them like a deployment for a given parameter set: loops,
 * conditions, modules, parent/scope chains and resource IDs are resolved. The tests only run it on
 * templates the compiler accepts (mutations.test.ts compiles every mutated copy first).
 *
 * Values only Azure knows at deployment time are represented as markers:
 *   - `@principal(<resource id>)` for `<resource>.identity.principalId`,
 *   - `@runtime(<resource id>:<path>)` for any other runtime property,
 * except a few well-known endpoint properties that are emulated with their documented public-cloud
 * shape (see `emulate`), so the generated configuration can be checked against its contract.
 *
 * Anything outside the supported subset throws: a construct the evaluator does not understand can
 * never be silently treated as passing.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';

export const FAKE = {
  subscriptionId: '00000000-0000-0000-0000-0000000000aa',
  tenantId: '00000000-0000-0000-0000-0000000000bb',
  resourceGroup: 'rg-ringkeeper-test',
  location: 'swedencentral',
};
const RG_ID = `/subscriptions/${FAKE.subscriptionId}/resourceGroups/${FAKE.resourceGroup}`;

export interface EvaluatedResource {
  /** Symbolic name in its file. */
  symbol: string;
  /** Module path: `main`, `main/storage`, `main/keyRingAccess[2]`, ... */
  module: string;
  file: string;
  type: string;
  apiVersion: string;
  /** Full name (`parent/child` for child resources). */
  name: string;
  id: string;
  existing: boolean;
  /** Evaluated body; resource references are replaced by their IDs, `parent` is dropped. */
  body: Record<string, any>;
}

export interface Decorated {
  name: string;
  file: string;
  decorators: Record<string, unknown[]>;
  /** Parameters only: whether it declares a default value. */
  hasDefault?: boolean;
}

export interface Deployment {
  /** Every resource that would be deployed (existing references excluded). */
  resources: EvaluatedResource[];
  /** Existing references, kept for completeness. */
  existing: EvaluatedResource[];
  outputs: Record<string, any>;
}

export interface EvaluateOptions {
  /** Overrides file contents by absolute path (mutation tests). */
  files?: Map<string, string>;
}

export class BicepEvaluationError extends Error {}

// ---------------------------------------------------------------------------------------------
// Parsing

let parserPromise: Promise<Parser> | undefined;
function getParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    const require = createRequire(import.meta.url);
    await Parser.init();
    const wasm = path.join(path.dirname(require.resolve('tree-sitter-bicep/package.json')), 'tree-sitter-bicep.wasm');
    const language = await Language.load(wasm);
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

export interface ParsedFile {
  file: string;
  root: Node;
  /** Syntax errors, as `line:column`. */
  errors: string[];
}

export async function parseBicep(file: string, text: string): Promise<ParsedFile> {
  const parser = await getParser();
  const tree = parser.parse(text);
  if (!tree) throw new BicepEvaluationError(`${file}: parser returned nothing`);
  const errors: string[] = [];
  const visit = (n: Node) => {
    if (n.isError || n.isMissing) errors.push(`${n.startPosition.row + 1}:${n.startPosition.column + 1} near ${JSON.stringify(n.text.slice(0, 40))}`);
    if (n.hasError) for (const c of n.children) if (c) visit(c);
  };
  visit(tree.rootNode);
  return { file, root: tree.rootNode, errors };
}

function kids(n: Node): Node[] {
  return n.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment' && c.type !== 'diagnostic_comment');
}

function hasToken(n: Node, token: string): boolean {
  return n.children.some((c) => c && !c.isNamed && c.type === token);
}

function where(file: string, n: Node): string {
  return `${path.basename(file)}:${n.startPosition.row + 1}:${n.startPosition.column + 1}`;
}

// ---------------------------------------------------------------------------------------------
// Values

class ResourceRef {
  constructor(readonly res: EvaluatedResource, readonly deployed: boolean) {}
}
class ModuleRef {
  constructor(readonly outputs: Record<string, any>) {}
}
class Lambda {
  constructor(readonly params: string[], readonly body: Node, readonly scope: Scope) {}
}
type Scope = Map<string, unknown>;
interface MemberOp { kind: 'member'; name: string; safe: boolean; node: Node }
interface IndexOp { kind: 'index'; index: Node; node: Node }
type PostfixOp = MemberOp | IndexOp;

/**
 * Operator expressions, re-parsed with Bicep's precedence. tree-sitter-bicep 1.1.0 gives `.x` and
 * `[i]` a lower precedence than binary, unary and ternary operators (`a ? b : c.d` parses as
 * `(a ? b : c).d`, `x == 2 && o.l[0] == 'x'` as `(((x == 2) && o).l[0]) == 'x'`). Its trees still
 * hold the tokens in source order, so the operator part of an expression is flattened back into
 * tokens and parsed again (Pratt) with the precedence of the Bicep docs.
 */
type OpTree =
  | { k: 'atom'; node: Node }
  | { k: 'ternary'; c: OpTree; t: OpTree; f: OpTree; at: Node }
  | { k: 'unary'; op: string; a: OpTree; at: Node }
  | { k: 'binary'; op: string; l: OpTree; r: OpTree; at: Node }
  | { k: 'postfix'; base: OpTree; ops: PostfixOp[] };

type Tok =
  | { t: 'atom'; node: Node }
  | { t: 'prefix'; op: string; node: Node }
  | { t: 'infix'; op: string; node: Node }
  | { t: 'post'; op: PostfixOp }
  | { t: '?' | ':'; node: Node };


function linearize(n: Node, out: Tok[] = []): Tok[] {
  switch (n.type) {
    case 'binary_expression':
      linearize(n.childForFieldName('left')!, out);
      out.push({ t: 'infix', op: n.childForFieldName('operator')!.type, node: n });
      linearize(n.childForFieldName('right')!, out);
      break;
    case 'unary_expression':
      out.push({ t: 'prefix', op: n.children.find((c) => c && !c.isNamed)!.type, node: n });
      linearize(n.childForFieldName('argument') ?? kids(n)[0]!, out);
      break;
    case 'ternary_expression':
      linearize(n.childForFieldName('condition')!, out);
      out.push({ t: '?', node: n });
      linearize(n.childForFieldName('consequence')!, out);
      out.push({ t: ':', node: n });
      linearize(n.childForFieldName('alternative')!, out);
      break;
    case 'member_expression':
      linearize(n.childForFieldName('object')!, out);
      out.push({ t: 'post', op: { kind: 'member', name: n.childForFieldName('property')!.text, safe: hasToken(n, '.?'), node: n } });
      break;
    case 'subscript_expression':
      linearize(n.childForFieldName('object')!, out);
      out.push({ t: 'post', op: { kind: 'index', index: n.childForFieldName('index')!, node: n } });
      break;
    default:
      out.push({ t: 'atom', node: n });
  }
  return out;
}

// Bicep operator precedence, lowest first (after the ternary).
const INFIX_PRECEDENCE: Record<string, number> = {
  '??': 1,
  '||': 2,
  '&&': 3,
  '==': 4, '!=': 4, '=~': 4, '!~': 4,
  '<': 5, '<=': 5, '>': 5, '>=': 5,
  '+': 6, '-': 6,
  '*': 7, '/': 7, '%': 7,
};

function reparse(n: Node, fail: (at: Node, msg: string) => never): OpTree {
  const toks = linearize(n);
  let i = 0;
  const peek = () => toks[i];
  const unaryOperand = (): OpTree => {
    const tok = toks[i++];
    if (!tok) fail(n, 'unexpected end of expression');
    if (tok.t === 'prefix') return { k: 'unary', op: tok.op, a: unaryOperand(), at: tok.node };
    if (tok.t !== 'atom') fail(n, `unexpected ${tok.t} in expression`);
    let base: OpTree = { k: 'atom', node: tok.node };
    const ops: PostfixOp[] = [];
    while (peek()?.t === 'post') ops.push((toks[i++] as Extract<Tok, { t: 'post' }>).op);
    if (ops.length) base = { k: 'postfix', base, ops };
    return base;
  };
  const binary = (min: number): OpTree => {
    let left = unaryOperand();
    for (;;) {
      const tok = peek();
      if (tok?.t !== 'infix') return left;
      const prec = INFIX_PRECEDENCE[tok.op];
      if (prec === undefined) fail(tok.node, `unsupported operator ${tok.op}`);
      if (prec < min) return left;
      i++;
      const right = binary(prec + 1);
      left = { k: 'binary', op: tok.op, l: left, r: right, at: tok.node };
    }
  };
  const ternary = (): OpTree => {
    const c = binary(1);
    if (peek()?.t !== '?') return c;
    const at = (toks[i++] as { node: Node }).node;
    const t = ternary();
    if (peek()?.t !== ':') fail(at, 'ternary without :');
    i++;
    const f = ternary();
    return { k: 'ternary', c, t, f, at };
  };
  const tree = ternary();
  if (i !== toks.length) fail(n, 'could not re-parse expression');
  return tree;
}

function principalMarker(id: string): string {
  return `@principal(${id})`;
}
/** The resource ID whose system-assigned identity a principal marker names, or undefined. */
export function principalOwner(value: unknown): string | undefined {
  const m = typeof value === 'string' ? /^@principal\((.+)\)$/.exec(value) : null;
  return m?.[1];
}

function plain(value: unknown): any {
  if (value instanceof ResourceRef) return value.res.id;
  if (value instanceof ModuleRef || value instanceof Lambda) throw new BicepEvaluationError('module or lambda used as a value');
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

function hash(...parts: unknown[]): Buffer {
  return createHash('sha256').update(JSON.stringify(parts)).digest();
}
function fakeGuid(args: unknown[]): string {
  const h = hash('guid', ...args).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
function fakeUniqueString(args: unknown[]): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const h = hash('uniqueString', ...args);
  return Array.from({ length: 13 }, (_, i) => alphabet[h[i]! % 32]).join('');
}

function deepUnion(a: any, b: any): any {
  if (Array.isArray(a) && Array.isArray(b)) {
    const out = [...a];
    for (const x of b) if (!out.some((y) => JSON.stringify(y) === JSON.stringify(x))) out.push(x);
    return out;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? deepUnion(out[k], v) : v;
    return out;
  }
  return b;
}

/** Public-cloud shapes of runtime endpoint properties (documented formats). */
function emulate(res: EvaluatedResource, p: string[]): string | undefined {
  const key = p.join('.');
  const [first, second] = res.name.split('/');
  switch (res.type) {
    case 'Microsoft.Storage/storageAccounts': {
      const m = /^properties\.primaryEndpoints\.(blob|queue|table|file|dfs|web)$/.exec(key);
      return m ? `https://${res.name}.${m[1]}.core.windows.net/` : undefined;
    }
    case 'Microsoft.KeyVault/vaults':
      return key === 'properties.vaultUri' ? `https://${res.name}.vault.azure.net/` : undefined;
    case 'Microsoft.KeyVault/vaults/keys':
      return key === 'properties.keyUri' ? `https://${first}.vault.azure.net/keys/${second}` : undefined;
    case 'Microsoft.Web/sites':
      return key === 'properties.defaultHostName' ? `${res.name}.azurewebsites.net` : undefined;
    case 'Microsoft.Web/sites/slots':
      return key === 'properties.defaultHostName' ? `${first}-${second}.azurewebsites.net` : undefined;
    default:
      return undefined;
  }
}

function resolveResourcePath(ref: ResourceRef, p: string[]): unknown {
  const res = ref.res;
  if (p.length === 1 && p[0] === 'id') return res.id;
  if (p.length === 1 && p[0] === 'name') return res.name.split('/').pop();
  if (p.length === 1 && p[0] === 'type') return res.type;
  if (p.length === 1 && p[0] === 'apiVersion') return res.apiVersion;
  if (p.join('.') === 'identity.principalId') {
    const type = res.body.identity?.type;
    if (!res.existing && !(typeof type === 'string' && type.includes('SystemAssigned'))) {
      throw new BicepEvaluationError(`${res.id} has no system-assigned identity`);
    }
    return principalMarker(res.id);
  }
  return emulate(res, p) ?? `@runtime(${res.id}:${p.join('.')})`;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

interface Decl {
  kind: 'param' | 'var' | 'resource' | 'module' | 'output';
  name: string;
  node: Node;
  decorators: Record<string, unknown[]>;
}

class Collector {
  resources: EvaluatedResource[] = [];
  params: Decorated[] = [];
  outputs: Decorated[] = [];
  files = new Set<string>();
}

class FileEvaluator {
  private decls = new Map<string, Decl>();
  private values = new Map<string, unknown>();
  private inProgress = new Set<string>();
  readonly outputs: Record<string, any> = {};

  constructor(
    private readonly parsed: ParsedFile,
    private readonly input: Record<string, unknown>,
    private readonly modulePath: string,
    private readonly deploymentName: string,
    private readonly ev: Evaluator,
  ) {}

  private fail(n: Node, msg: string): never {
    throw new BicepEvaluationError(`${where(this.parsed.file, n)}: ${msg}`);
  }

  run(): void {
    const { root, file, errors } = this.parsed;
    if (errors.length) throw new BicepEvaluationError(`${file}: syntax errors at ${errors.join(', ')}`);
    let pending: Record<string, unknown[]> = {};
    for (const n of kids(root)) {
      switch (n.type) {
        case 'decorators':
          pending = this.decorators(n);
          continue;
        case 'parameter_declaration':
        case 'variable_declaration':
        case 'resource_declaration':
        case 'module_declaration':
        case 'output_declaration': {
          const kind = ({ parameter_declaration: 'param', variable_declaration: 'var', resource_declaration: 'resource', module_declaration: 'module', output_declaration: 'output' } as const)[n.type];
          const name = kids(n)[0]!.text;
          const key = kind === 'output' ? `output:${name}` : name;
          if (this.decls.has(key)) this.fail(n, `duplicate symbol ${name}`);
          this.decls.set(key, { kind, name, node: n, decorators: pending });
          if (kind === 'param') this.ev.collector.params.push({ name, file, decorators: pending, hasDefault: kids(n).length >= 3 });
          if (kind === 'output') this.ev.collector.outputs.push({ name, file, decorators: pending });
          break;
        }
        case 'metadata_declaration':
        case 'target_scope_assignment':
          if (n.type === 'target_scope_assignment' && !n.text.includes("'resourceGroup'")) this.fail(n, 'only resourceGroup scope is supported');
          break;
        default:
          this.fail(n, `unsupported declaration ${n.type}`);
      }
      pending = {};
    }
    for (const key of Object.keys(this.input)) {
      if (this.decls.get(key)?.kind !== 'param') throw new BicepEvaluationError(`${file}: parameter ${key} is not declared`);
    }
    // Force every declaration, as a deployment would, then read the outputs.
    for (const d of this.decls.values()) {
      if (d.kind === 'output') this.outputs[d.name] = plain(this.expr(kids(d.node).at(-1)!, new Map()));
      else this.symbol(d.name, d.node);
    }
  }

  private decorators(n: Node): Record<string, unknown[]> {
    const out: Record<string, unknown[]> = {};
    for (const d of kids(n)) {
      const call = kids(d)[0]!;
      if (call.type !== 'call_expression') this.fail(d, 'unsupported decorator');
      let name = call.childForFieldName('function')!.text;
      name = name.replace(/^sys\./, '');
      const args = kids(call.childForFieldName('arguments')!).map((a) => this.expr(a, new Map()));
      out[name] = args;
    }
    return out;
  }

  private symbol(name: string, at: Node): unknown {
    if (this.values.has(name)) return this.values.get(name);
    const d = this.decls.get(name);
    if (!d) this.fail(at, `unknown symbol ${name}`);
    if (this.inProgress.has(name)) this.fail(at, `cycle through ${name}`);
    this.inProgress.add(name);
    let value: unknown;
    switch (d.kind) {
      case 'param':
        value = this.param(d);
        break;
      case 'var':
        value = this.expr(kids(d.node)[1]!, new Map());
        break;
      case 'resource':
        value = this.resource(d);
        break;
      case 'module':
        value = this.module(d);
        break;
      default:
        this.fail(at, `cannot reference ${name}`);
    }
    this.inProgress.delete(name);
    this.values.set(name, value);
    return value;
  }

  private param(d: Decl): unknown {
    const parts = kids(d.node);
    let value: unknown;
    if (Object.prototype.hasOwnProperty.call(this.input, d.name)) value = this.input[d.name];
    else if (parts.length >= 3) value = this.expr(parts[2]!, new Map());
    else this.fail(d.node, `parameter ${d.name} has no value`);
    const dec = d.decorators;
    const fail = (why: string) => this.fail(d.node, `parameter ${d.name}=${JSON.stringify(value)}: ${why}`);
    if (dec.allowed && !(dec.allowed[0] as unknown[]).some((a) => JSON.stringify(a) === JSON.stringify(value))) fail('not in @allowed');
    const len = typeof value === 'string' || Array.isArray(value) ? value.length : undefined;
    if (dec.minLength && (len === undefined || len < (dec.minLength[0] as number))) fail('shorter than @minLength');
    if (dec.maxLength && (len === undefined || len > (dec.maxLength[0] as number))) fail('longer than @maxLength');
    if (dec.minValue && !((value as number) >= (dec.minValue[0] as number))) fail('below @minValue');
    if (dec.maxValue && !((value as number) <= (dec.maxValue[0] as number))) fail('above @maxValue');
    const type = parts[1]!.text;
    const ok =
      type === 'string' ? typeof value === 'string'
      : type === 'int' ? Number.isInteger(value)
      : type === 'bool' ? typeof value === 'boolean'
      : type === 'object' ? !!value && typeof value === 'object' && !Array.isArray(value)
      : type === 'array' ? Array.isArray(value)
      : type === 'string[]' ? Array.isArray(value) && value.every((x) => typeof x === 'string')
      : this.fail(d.node, `unsupported parameter type ${type}`);
    if (!ok) fail(`not a ${type}`);
    return value;
  }

  /** The body of a resource or module: object, `if (...) {...}` or `[for ...: ...]`. */
  private iterate(body: Node, scope: Scope, each: (obj: Node, scope: Scope, condition: boolean, index: number) => unknown): unknown {
    if (body.type === 'object') return each(body, scope, true, 0);
    if (body.type === 'if_statement') {
      const [cond, obj] = kids(body);
      return each(obj!, scope, this.truthy(this.expr(cond!, scope), cond!), 0);
    }
    if (body.type === 'for_statement') {
      return this.forEach(body, scope, (inner, i) => {
        const b = body.childForFieldName('body')!;
        if (b.type === 'if_statement') {
          const [cond, obj] = kids(b);
          return each(obj!, inner, this.truthy(this.expr(cond!, inner), cond!), i);
        }
        return each(b, inner, true, i);
      });
    }
    this.fail(body, `unsupported body ${body.type}`);
  }

  private forEach(n: Node, scope: Scope, f: (scope: Scope, index: number) => unknown): unknown[] {
    const parts = kids(n);
    const head = parts[0]!;
    let item: string;
    let index: string | undefined;
    if (head.type === 'for_loop_parameters') {
      const vars = kids(head);
      item = vars[0]!.text;
      index = vars[1]?.text;
    } else item = head.text;
    const source = this.expr(parts[1]!, scope);
    if (!Array.isArray(source)) this.fail(parts[1]!, 'loop over a non-array');
    return source.map((x, i) => {
      const inner = new Map(scope);
      inner.set(item, x);
      if (index) inner.set(index, i);
      return f(inner, i);
    });
  }

  private truthy(v: unknown, at: Node): boolean {
    if (typeof v !== 'boolean') this.fail(at, 'condition is not a bool');
    return v;
  }

  private resource(d: Decl): unknown {
    const parts = kids(d.node);
    const typeText = this.expr(parts[1]!, new Map());
    if (typeof typeText !== 'string' || !typeText.includes('@')) this.fail(parts[1]!, 'resource type needs an API version');
    const [type, apiVersion] = typeText.split('@') as [string, string];
    const existing = hasToken(d.node, 'existing');
    return this.iterate(parts[2]!, new Map(), (obj, scope, condition) => {
      if (kids(obj).some((p) => kids(p).some((c) => c.type === 'resource_declaration'))) this.fail(obj, 'nested resource declarations are not supported; use parent');
      const body = this.expr(obj, scope) as Record<string, unknown>;
      const name = body.name;
      if (typeof name !== 'string') this.fail(obj, 'resource name must be a string');
      const typeSegments = type.split('/');
      let fullName: string;
      let id: string;
      if (body.parent !== undefined) {
        if (!(body.parent instanceof ResourceRef)) this.fail(obj, 'parent must be a resource');
        const parent = body.parent.res;
        if (`${parent.type}/${typeSegments.at(-1)}` !== type) this.fail(obj, `parent type ${parent.type} does not match ${type}`);
        fullName = `${parent.name}/${name}`;
        id = `${parent.id}/${typeSegments.at(-1)}/${name}`;
      } else {
        if (typeSegments.length !== 2 || name.includes('/')) this.fail(obj, 'child resources must use parent');
        fullName = name;
        id = `${RG_ID}/providers/${type}/${name}`;
      }
      if (body.scope !== undefined) {
        if (!(body.scope instanceof ResourceRef)) this.fail(obj, 'scope must be a resource');
        if (body.parent !== undefined) this.fail(obj, 'scope and parent together are not supported');
        id = `${body.scope.res.id}/providers/${type}/${name}`;
      }
      const { parent: _parent, ...rest } = body;
      const res: EvaluatedResource = {
        symbol: d.name,
        module: this.modulePath,
        file: this.parsed.file,
        type,
        apiVersion,
        name: fullName,
        id,
        existing,
        body: plain(rest),
      };
      if (condition) this.ev.collector.resources.push(res);
      return new ResourceRef(res, condition && !existing);
    });
  }

  private module(d: Decl): unknown {
    const parts = kids(d.node);
    const rel = this.expr(parts[1]!, new Map());
    if (typeof rel !== 'string' || /^(br|ts)[:/]/.test(rel)) this.fail(parts[1]!, 'only local module paths are supported');
    const file = path.resolve(path.dirname(this.parsed.file), rel);
    return this.iterate(parts[2]!, new Map(), (obj, scope, condition, index) => {
      const body = this.expr(obj, scope) as Record<string, unknown>;
      for (const k of Object.keys(body)) if (!['name', 'params', 'dependsOn'].includes(k)) this.fail(obj, `unsupported module property ${k}`);
      if (typeof body.name !== 'string') this.fail(obj, 'module name must be a string');
      if (!condition) return new ModuleRef({});
      const loop = parts[2]!.type === 'for_statement' ? `[${index}]` : '';
      const child = this.ev.evaluateFile(file, (body.params ?? {}) as Record<string, unknown>, `${this.modulePath}/${d.name}${loop}`, body.name);
      return new ModuleRef(child.outputs);
    });
  }

  // Expressions ------------------------------------------------------------------------------

  expr(n: Node, scope: Scope): unknown {
    switch (n.type) {
      case 'string':
        return this.string(n, scope);
      case 'number':
        return Number.parseInt(n.text, 10);
      case 'boolean':
        return n.text === 'true';
      case 'null':
        return null;
      case 'array':
        return kids(n).map((c) => this.expr(c, scope));
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const p of kids(n)) {
          if (p.type !== 'object_property') this.fail(p, `unsupported object member ${p.type}`);
          const [k, v] = kids(p);
          const key = k!.type === 'identifier' ? k!.text : this.expr(k!, scope);
          if (typeof key !== 'string') this.fail(k!, 'object key must be a string');
          if (key in out) this.fail(k!, `duplicate key ${key}`);
          out[key] = this.expr(v!, scope);
        }
        return out;
      }
      case 'identifier': {
        if (scope.has(n.text)) return scope.get(n.text);
        return this.symbol(n.text, n);
      }
      case 'parenthesized_expression': {
        const inner = kids(n);
        if (inner.length !== 1) this.fail(n, 'tuple outside a lambda');
        return this.expr(inner[0]!, scope);
      }
      case 'for_statement':
        return this.forEach(n, scope, (inner) => {
          const b = n.childForFieldName('body')!;
          if (b.type === 'if_statement') this.fail(b, 'filtered for-expressions are not supported');
          return this.expr(b, inner);
        });
      case 'ternary_expression':
      case 'unary_expression':
      case 'binary_expression':
      case 'member_expression':
      case 'subscript_expression':
        return this.evalOp(reparse(n, (at, msg) => this.fail(at, msg)), scope);
      case 'call_expression':
        return this.call(n, scope);
      case 'lambda_expression': {
        const [head, body] = kids(n);
        const params = head!.type === 'identifier' ? [head!.text] : kids(head!).map((c) => c.text);
        return new Lambda(params, body!, scope);
      }
      default:
        this.fail(n, `unsupported expression ${n.type}`);
    }
  }

  private string(n: Node, scope: Scope): string {
    let out = '';
    for (const c of n.children) {
      if (!c) continue;
      if (c.type === 'string_content') out += c.text;
      else if (c.type === 'escape_sequence') {
        const map: Record<string, string> = { "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t' };
        if (!(c.text in map)) this.fail(c, `unsupported escape ${c.text}`);
        out += map[c.text];
      } else if (c.type === 'interpolation') {
        const v = this.expr(kids(c)[0]!, scope);
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out += String(v);
        else this.fail(c, 'interpolating a non-scalar');
      } else if (c.isNamed && c.type !== 'comment') this.fail(c, `unsupported string part ${c.type}`);
      else if (!c.isNamed && c.type !== "'" && c.type !== "'''") this.fail(c, `unsupported string token ${c.type}`);
    }
    // tree-sitter-bicep drops the `$` of `\${`: refuse the construct rather than mis-evaluate it.
    if (n.text.includes('\\$')) this.fail(n, 'escaped ${ is not supported');
    return out;
  }

  private evalOp(e: OpTree, scope: Scope): unknown {
    switch (e.k) {
      case 'atom':
        return this.expr(e.node, scope);
      case 'ternary': {
        // Lazy like ARM's if(): only the chosen branch is evaluated.
        const c = this.truthy(this.evalOp(e.c, scope), e.at);
        return this.evalOp(c ? e.t : e.f, scope);
      }
      case 'unary': {
        const v = this.evalOp(e.a, scope);
        if (e.op === '!') return !this.truthy(v, e.at);
        if (e.op === '-' && typeof v === 'number') return -v;
        return this.fail(e.at, `unsupported unary ${e.op}`);
      }
      case 'binary':
        return this.binary(e, scope);
      case 'postfix':
        return this.postfix(e, scope);
    }
  }

  private binary(e: Extract<OpTree, { k: 'binary' }>, scope: Scope): unknown {
    const { op, at } = e;
    const left = () => this.evalOp(e.l, scope);
    const right = () => this.evalOp(e.r, scope);
    switch (op) {
      case '&&':
        return this.truthy(left(), at) && this.truthy(right(), at);
      case '||':
        return this.truthy(left(), at) || this.truthy(right(), at);
      case '??': {
        const l = left();
        return l ?? right();
      }
      case '==':
        return JSON.stringify(plain(left())) === JSON.stringify(plain(right()));
      case '!=':
        return JSON.stringify(plain(left())) !== JSON.stringify(plain(right()));
      case '=~':
        return String(left()).toLowerCase() === String(right()).toLowerCase();
      case '!~':
        return String(left()).toLowerCase() !== String(right()).toLowerCase();
    }
    const l = left();
    const r = right();
    if (typeof l !== 'number' || typeof r !== 'number') this.fail(at, `operator ${op} needs numbers`);
    switch (op) {
      case '+': return l + r;
      case '-': return l - r;
      case '*': return l * r;
      case '/': return Math.trunc(l / r);
      case '%': return l % r;
      case '<': return l < r;
      case '<=': return l <= r;
      case '>': return l > r;
      case '>=': return l >= r;
    }
    this.fail(at, `unsupported operator ${op}`);
  }

  private postfix(e: Extract<OpTree, { k: 'postfix' }>, scope: Scope): unknown {
    const ops = e.ops;
    let value = this.evalOp(e.base, scope);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (value instanceof ResourceRef) {
        // A resource sees its whole property path at once (id, name, identity.principalId, ...).
        const names: string[] = [];
        while (i < ops.length && ops[i]!.kind === 'member') names.push((ops[i++] as MemberOp).name);
        if (!names.length) this.fail(op.node, 'subscript on a resource');
        value = resolveResourcePath(value, names);
        i--;
        continue;
      }
      if (value instanceof ModuleRef) {
        if (op.kind !== 'member' || op.name !== 'outputs') this.fail(op.node, 'only module outputs can be read');
        value = value.outputs;
        continue;
      }
      if (op.kind === 'member') {
        if (value === null && op.safe) return null;
        value = this.prop(value, op.name, op.node, op.safe);
        continue;
      }
      const idx = this.expr(op.index, scope);
      if (Array.isArray(value) && typeof idx === 'number') {
        if (!Number.isInteger(idx) || idx < 0 || idx >= value.length) this.fail(op.node, `index ${idx} out of range (${value.length})`);
        value = value[idx];
      } else if (value && typeof value === 'object' && typeof idx === 'string' && !Array.isArray(value)) {
        value = this.prop(value, idx, op.node, false);
      } else this.fail(op.node, 'bad subscript');
    }
    return value;
  }

  private prop(obj: unknown, key: string, at: Node, safe: boolean): unknown {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) this.fail(at, `.${key} on a non-object`);
    if (!(key in (obj))) {
      if (safe) return null;
      this.fail(at, `no property ${key}`);
    }
    return (obj as Record<string, unknown>)[key];
  }

  private apply(f: unknown, args: unknown[], at: Node): unknown {
    if (!(f instanceof Lambda)) this.fail(at, 'expected a lambda');
    const inner = new Map(f.scope);
    f.params.forEach((p, i) => inner.set(p, args[i]));
    return this.expr(f.body, inner);
  }

  private call(n: Node, scope: Scope): unknown {
    const fnNode = n.childForFieldName('function')!;
    const name = fnNode.text.replace(/^(sys|az)\./, '');
    const args = kids(n.childForFieldName('arguments')!).map((a) => this.expr(a, scope));
    const str = (i: number) => {
      const v = args[i];
      if (typeof v !== 'string') this.fail(n, `${name}: argument ${i + 1} must be a string`);
      return v;
    };
    const arr = (i: number) => {
      const v = args[i];
      if (!Array.isArray(v)) this.fail(n, `${name}: argument ${i + 1} must be an array`);
      return v;
    };
    switch (name) {
      case 'resourceGroup':
        return { id: RG_ID, name: FAKE.resourceGroup, location: FAKE.location, type: 'Microsoft.Resources/resourceGroups' };
      case 'subscription':
        return { id: `/subscriptions/${FAKE.subscriptionId}`, subscriptionId: FAKE.subscriptionId, tenantId: FAKE.tenantId };
      case 'tenant':
        return { tenantId: FAKE.tenantId };
      case 'deployment':
        return { name: this.deploymentName };
      case 'environment':
        return { name: 'AzureCloud', suffixes: { storage: 'core.windows.net', keyvaultDns: '.vault.azure.net' } };
      case 'loadJsonContent': {
        const file = path.resolve(path.dirname(this.parsed.file), str(0));
        this.ev.collector.files.add(file);
        return JSON.parse(this.ev.read(file));
      }
      case 'guid':
        return fakeGuid(args.map(plain));
      case 'uniqueString':
        return fakeUniqueString(args.map(plain));
      case 'subscriptionResourceId':
        return `/subscriptions/${FAKE.subscriptionId}/providers/${str(0)}/${args.slice(1).map((a) => String(a)).join('/')}`;
      case 'string': {
        const v = plain(args[0]);
        return typeof v === 'string' ? v : JSON.stringify(v);
      }
      case 'json':
        return JSON.parse(str(0));
      case 'concat':
        if (args.every(Array.isArray)) return (args as unknown[][]).flat(1);
        if (args.every((a) => typeof a === 'string')) return args.join('');
        return this.fail(n, 'concat of mixed types');
      case 'union':
        return args.reduce((a, b) => deepUnion(a, b));
      case 'take':
        return typeof args[0] === 'string' ? str(0).slice(0, args[1] as number) : arr(0).slice(0, args[1] as number);
      case 'skip':
        return typeof args[0] === 'string' ? str(0).slice(args[1] as number) : arr(0).slice(args[1] as number);
      case 'toLower':
        return str(0).toLowerCase();
      case 'toUpper':
        return str(0).toUpperCase();
      case 'length':
        return typeof args[0] === 'string' ? str(0).length : Array.isArray(args[0]) ? args[0].length : Object.keys(args[0] as object).length;
      case 'empty':
        return args[0] === null || (typeof args[0] === 'string' || Array.isArray(args[0]) ? (args[0] as string | unknown[]).length === 0 : Object.keys(args[0] as object).length === 0);
      case 'contains':
        return typeof args[0] === 'string' ? str(0).includes(str(1)) : Array.isArray(args[0]) ? args[0].some((x) => JSON.stringify(x) === JSON.stringify(args[1])) : str(1) in (args[0] as object);
      case 'first':
        return typeof args[0] === 'string' ? str(0).slice(0, 1) : arr(0)[0];
      case 'substring': {
        const [start, count] = [args[1] as number, (args[2] as number | undefined) ?? str(0).length - (args[1] as number)];
        if (start < 0 || count < 0 || start + count > str(0).length) this.fail(n, `substring: ${start}+${count} is outside "${str(0)}"`);
        return str(0).slice(start, start + count);
      }
      case 'fail':
        // ARM stops the deployment with this message; so does the evaluation.
        throw new BicepEvaluationError(`deployment fails: ${str(0)}`);
      case 'last':
        return arr(0).at(-1);
      case 'range':
        return Array.from({ length: args[1] as number }, (_, i) => (args[0] as number) + i);
      case 'max':
        return Math.max(...(args as number[]));
      case 'min':
        return Math.min(...(args as number[]));
      case 'replace':
        return str(0).split(str(1)).join(str(2));
      case 'split':
        return str(0).split(str(1));
      case 'join':
        return arr(0).join(str(1));
      case 'startsWith':
        return str(0).toLowerCase().startsWith(str(1).toLowerCase());
      case 'endsWith':
        return str(0).toLowerCase().endsWith(str(1).toLowerCase());
      case 'format':
        return str(0).replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i) + 1]));
      case 'flatten':
        return arr(0).flat(1);
      case 'map':
        return arr(0).map((x, i) => this.apply(args[1], [x, i], n));
      case 'filter':
        return arr(0).filter((x, i) => this.truthy(this.apply(args[1], [x, i], n), n));
      case 'reduce':
        return arr(0).reduce((acc, x, i) => this.apply(args[2], [acc, x, i], n), args[1]);
      default:
        // list*(), reference(), resourceId() and the rest are deliberately unsupported here.
        this.fail(n, `unsupported function ${name}()`);
    }
  }
}

class Evaluator {
  readonly collector = new Collector();
  private parsed = new Map<string, ParsedFile>();
  constructor(private readonly options: EvaluateOptions) {}

  read(file: string): string {
    return this.options.files?.get(file) ?? readFileSync(file, 'utf8');
  }

  async preload(entry: string): Promise<void> {
    // Parse the entry file and every local module it reaches (module paths are literals).
    const queue = [entry];
    while (queue.length) {
      const file = queue.shift()!;
      if (this.parsed.has(file)) continue;
      const p = await parseBicep(file, this.read(file));
      this.parsed.set(file, p);
      for (const n of kids(p.root)) {
        if (n.type !== 'module_declaration') continue;
        const lit = kids(n)[1]!;
        queue.push(path.resolve(path.dirname(file), lit.text.slice(1, -1)));
      }
    }
  }

  evaluateFile(file: string, params: Record<string, unknown>, modulePath: string, deploymentName: string): FileEvaluator {
    const parsed = this.parsed.get(file);
    if (!parsed) throw new BicepEvaluationError(`${file} was not preloaded`);
    this.collector.files.add(file);
    const fe = new FileEvaluator(parsed, params, modulePath, deploymentName, this);
    fe.run();
    return fe;
  }
}

export interface EvaluationResult extends Deployment {
  /** Every parameter and output declaration met, with its decorators (for convention checks). */
  params: Decorated[];
  outputDecls: Decorated[];
  files: string[];
}

/** Evaluates `entry` for `params` (plain values, as in a parameters file's `value`s). */
export async function evaluateBicep(entry: string, params: Record<string, unknown>, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const ev = new Evaluator(options);
  const file = path.resolve(entry);
  await ev.preload(file);
  const fe = ev.evaluateFile(file, params, 'main', 'main');
  const all = ev.collector.resources;
  return {
    resources: all.filter((r) => !r.existing),
    existing: all.filter((r) => r.existing),
    outputs: fe.outputs,
    params: ev.collector.params,
    outputDecls: ev.collector.outputs,
    files: [...ev.collector.files],
  };
}

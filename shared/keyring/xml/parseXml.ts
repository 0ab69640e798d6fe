import type { XmlDocument, XmlElement, XmlNode } from './XmlNode';

export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

/** A document that is not well-formed XML (or uses a DTD, which ringkeeper refuses like .NET's DtdProcessing.Prohibit). */
export class XmlSyntaxError extends Error {
  constructor(
    readonly problem: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${problem} (line ${line}, column ${column})`);
    this.name = 'XmlSyntaxError';
  }
}

const NAME_START =
  ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
// eslint-disable-next-line no-misleading-character-class -- XML NameChar includes combining marks (U+0300-U+036F) by definition.
const NAME = new RegExp(`[${NAME_START}][${NAME_CHAR}]*`, 'uy');
const WHITESPACE = /[ \t\r\n]*/y;
const TEXT_RUN = /[^<&]*/y;
const ATTRIBUTE_RUN = /[^<&"'\t\n\r]*/y;
const INVALID_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const DECLARATION =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])(1\.[0-9]+)\1([ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\4)?([ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(yes|no)\7)?[ \t\r\n]*\?>/y;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Namespace declarations of one element (prefix -> URI); most elements declare none. */
type Scope = ReadonlyMap<string, string>;

/** Parses a complete XML document held in a string (already decoded from UTF-8, BOM removed). */
export function parseXml(source: string, hadBom = false): XmlDocument {
  return new Parser(source).parseDocument(hadBom);
}

class Parser {
  private pos = 0;
  /** In-scope namespace declarations, innermost last. */
  private readonly scopes: Scope[] = [];
  constructor(private readonly src: string) {}

  parseDocument(hadBom: boolean): XmlDocument {
    const invalid = INVALID_CHAR.exec(this.src);
    if (invalid) this.fail(`the character U+${invalid[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, invalid.index);
    let declaration: XmlDocument['declaration'];
    if (this.src.startsWith('<?xml') && /^<\?xml[ \t\r\n?]/.test(this.src)) {
      DECLARATION.lastIndex = 0;
      const m = DECLARATION.exec(this.src);
      if (!m) this.fail('the XML declaration is malformed', 0);
      // System.Xml reads XML 1.0 only ("Version number '1.1' is invalid").
      if (m[2] !== '1.0') this.fail(`version "${m[2]}" in the XML declaration is not supported (only "1.0", as in .NET's XmlReader)`, 0);
      declaration = { start: 0, end: m[0].length, encoding: m[5] };
      this.pos = m[0].length;
    }
    const rootScope = new Map<string, string>([
      ['xml', XML_NAMESPACE],
      ['xmlns', XMLNS_NAMESPACE],
      ['', ''],
    ]);
    let root: XmlElement | undefined;
    while (this.pos < this.src.length) {
      this.skipWhitespace();
      if (this.pos >= this.src.length) break;
      if (this.src.startsWith('<!--', this.pos)) this.parseComment();
      else if (this.src.startsWith('<!DOCTYPE', this.pos)) this.fail('a DTD is not allowed (DtdProcessing.Prohibit)');
      else if (this.src.startsWith('<?', this.pos)) this.parseProcessingInstruction();
      else if (this.src[this.pos] === '<') {
        if (root) this.fail('there are multiple root elements');
        this.scopes.push(rootScope);
        root = this.parseElement();
        this.scopes.pop();
      } else this.fail(root ? 'data is not allowed after the root element' : 'data is not allowed before the root element');
    }
    if (!root) this.fail('the root element is missing');
    return { source: this.src, hadBom, declaration, root };
  }

  /**
   * The root element and everything in it, without recursion: ASP.NET Core's reader accepts any
   * nesting depth, so ringkeeper must too (a call per level would overflow the stack).
   */
  private parseElement(): XmlElement {
    const root = this.parseStartTag();
    if (root.closed) return root.element;
    const open: { element: XmlElement; declares: boolean }[] = [root];
    while (open.length > 0) {
      const { element, declares } = open[open.length - 1]!;
      if (this.pos >= this.src.length) this.fail(`the element <${element.qname}> (line ${lineAt(this.src, element.start)}) is not closed (unexpected end of file)`);
      if (this.src.startsWith('</', this.pos)) {
        const at = this.pos;
        this.pos += 2;
        const name = this.readName('an end tag name');
        this.skipWhitespace();
        if (this.src[this.pos] !== '>') this.fail(`the end tag </${name}> is malformed`);
        this.pos++;
        if (name !== element.qname) this.fail(`the end tag </${name}> does not match the start tag <${element.qname}> (line ${lineAt(this.src, element.start)})`, at);
        element.end = this.pos;
        open.pop();
        if (declares) this.scopes.pop();
      } else if (this.src.startsWith('<!--', this.pos)) element.children.push(this.parseComment());
      else if (this.src.startsWith('<![CDATA[', this.pos)) element.children.push(this.parseCData());
      else if (this.src.startsWith('<!', this.pos)) this.fail('markup declarations are not allowed in content');
      else if (this.src.startsWith('<?', this.pos)) element.children.push(this.parseProcessingInstruction());
      else if (this.src[this.pos] === '<') {
        const child = this.parseStartTag();
        element.children.push(child.element);
        if (!child.closed) open.push(child);
      } else element.children.push(this.parseText());
    }
    return root.element;
  }

  /**
   * A start tag. Its namespace declarations, if any, stay pushed until the matching end tag unless
   * it closed itself; elements that declare nothing push nothing, so lookups cost the number of
   * declaring ancestors, not the depth.
   */
  private parseStartTag(): { element: XmlElement; closed: boolean; declares: boolean } {
    const start = this.pos;
    this.pos++; // <
    const qname = this.readName('an element name');
    const rawAttributes: { qname: string; value: string; at: number }[] = [];
    for (;;) {
      const hadSpace = this.skipWhitespace();
      const c = this.src[this.pos];
      if (c === undefined) this.fail(`the start tag <${qname}> is not closed (unexpected end of file)`);
      if (c === '>' || this.src.startsWith('/>', this.pos)) break;
      if (!hadSpace) this.fail(`expected whitespace between attributes in <${qname}>`);
      const at = this.pos;
      const name = this.readName(`an attribute name in <${qname}>`);
      this.skipWhitespace();
      if (this.src[this.pos] !== '=') this.fail(`attribute "${name}" in <${qname}> has no value`);
      this.pos++;
      this.skipWhitespace();
      const value = this.readAttributeValue(name, qname);
      if (rawAttributes.some((a) => a.qname === name)) this.fail(`attribute "${name}" appears twice in <${qname}>`, at);
      rawAttributes.push({ qname: name, value, at });
    }
    let scope: Map<string, string> | undefined;
    for (const a of rawAttributes) {
      if (a.qname === 'xmlns') (scope ??= new Map()).set('', a.value);
      else if (a.qname.startsWith('xmlns:')) {
        const prefix = a.qname.slice(6);
        if (a.value === '') this.fail(`the prefix "${prefix}" cannot be bound to an empty namespace`, a.at);
        if (prefix === 'xmlns' || (prefix === 'xml' && a.value !== XML_NAMESPACE)) this.fail(`the prefix "${prefix}" cannot be redeclared`, a.at);
        (scope ??= new Map()).set(prefix, a.value);
      }
    }
    if (scope) this.scopes.push(scope);
    const [prefix, localName] = this.splitName(qname, start);
    const element: XmlElement = {
      kind: 'element',
      qname,
      localName,
      namespace: this.resolve(prefix, start, true),
      attributes: [],
      children: [],
      start,
      end: start,
    };
    const seen = new Set<string>();
    for (const a of rawAttributes) {
      const [aPrefix, aLocal] = this.splitName(a.qname, a.at);
      const isDeclaration = a.qname === 'xmlns' || aPrefix === 'xmlns';
      const namespace = isDeclaration ? XMLNS_NAMESPACE : aPrefix === '' ? '' : this.resolve(aPrefix, a.at, false);
      const key = `{${namespace}}${aLocal}`;
      if (seen.has(key)) this.fail(`attribute "${a.qname}" duplicates another attribute in <${qname}> after namespace resolution`, a.at);
      seen.add(key);
      element.attributes.push({ qname: a.qname, localName: aLocal, namespace, value: a.value });
    }
    if (this.src.startsWith('/>', this.pos)) {
      this.pos += 2;
      element.end = this.pos;
      if (scope) this.scopes.pop();
      return { element, closed: true, declares: !!scope };
    }
    this.pos++; // >
    return { element, closed: false, declares: !!scope };
  }

  private parseText(): XmlNode {
    const start = this.pos;
    let value = '';
    for (;;) {
      // Copy runs of plain characters at once; only references need work.
      TEXT_RUN.lastIndex = this.pos;
      const run = TEXT_RUN.exec(this.src)![0];
      if (run.includes(']]>')) this.fail('"]]>" is not allowed in text', this.pos + run.indexOf(']]>'));
      value += run;
      this.pos += run.length;
      if (this.src[this.pos] !== '&') break;
      value += this.readReference();
    }
    return { kind: 'text', value: normalizeNewlines(value), cdata: false, start, end: this.pos };
  }

  private parseCData(): XmlNode {
    const start = this.pos;
    const close = this.src.indexOf(']]>', this.pos + 9);
    if (close < 0) this.fail('a CDATA section is not closed');
    const value = this.src.slice(this.pos + 9, close);
    this.pos = close + 3;
    return { kind: 'text', value: normalizeNewlines(value), cdata: true, start, end: this.pos };
  }

  private parseComment(): XmlNode {
    const start = this.pos;
    const close = this.src.indexOf('--', this.pos + 4);
    if (close < 0) this.fail('a comment is not closed');
    if (this.src[close + 2] !== '>') this.fail('"--" is not allowed inside a comment', close);
    const value = this.src.slice(this.pos + 4, close);
    this.pos = close + 3;
    return { kind: 'comment', value, start, end: this.pos };
  }

  private parseProcessingInstruction(): XmlNode {
    const start = this.pos;
    this.pos += 2;
    const target = this.readName('a processing instruction target');
    if (target.toLowerCase() === 'xml') this.fail('the XML declaration is only allowed at the very start of the document', start);
    const close = this.src.indexOf('?>', this.pos);
    if (close < 0) this.fail('a processing instruction is not closed');
    const data = this.src.slice(this.pos, close);
    if (data !== '' && !/^[ \t\r\n]/.test(data)) this.fail('expected whitespace after the processing instruction target');
    this.pos = close + 2;
    return { kind: 'pi', target, data: data.trimStart(), start, end: this.pos };
  }

  private readAttributeValue(name: string, elementName: string): string {
    const quote = this.src[this.pos];
    if (quote !== '"' && quote !== "'") this.fail(`the value of attribute "${name}" in <${elementName}> must be quoted`);
    this.pos++;
    let value = '';
    for (;;) {
      ATTRIBUTE_RUN.lastIndex = this.pos;
      const run = ATTRIBUTE_RUN.exec(this.src)![0];
      value += run;
      this.pos += run.length;
      const c = this.src[this.pos];
      if (c === undefined) this.fail(`the value of attribute "${name}" in <${elementName}> is not closed`);
      if (c === quote) break;
      if (c === '<') this.fail(`"<" is not allowed in the value of attribute "${name}"`);
      if (c === '&') value += this.readReference();
      else {
        // Attribute-value normalisation (XML 1.0 §3.3.3): literal whitespace (and the other quote) is kept as a space or itself.
        if (c === '\r' && this.src[this.pos + 1] === '\n') this.pos++;
        value += c === '\t' || c === '\n' || c === '\r' ? ' ' : c;
        this.pos++;
      }
    }
    this.pos++;
    return value;
  }

  private readReference(): string {
    const at = this.pos;
    const semi = this.src.indexOf(';', at);
    if (semi < 0 || semi - at > 12) this.fail('"&" must start an entity or character reference', at);
    const body = this.src.slice(at + 1, semi);
    this.pos = semi + 1;
    if (body.startsWith('#')) {
      const code = /^#x[0-9a-fA-F]+$/.test(body) ? parseInt(body.slice(2), 16) : /^#[0-9]+$/.test(body) ? parseInt(body.slice(1), 10) : NaN;
      const ch = Number.isNaN(code) || code > 0x10ffff ? undefined : String.fromCodePoint(code);
      if (ch === undefined || INVALID_CHAR.test(ch)) this.fail(`"&${body};" is not a valid character reference`, at);
      return ch;
    }
    const predefined = PREDEFINED[body];
    if (predefined === undefined) this.fail(`the entity "&${body};" is not defined`, at);
    return predefined;
  }

  private readName(what: string): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.src);
    if (!m) this.fail(`expected ${what}`);
    this.pos += m[0].length;
    return m[0];
  }

  private splitName(qname: string, at: number): [string, string] {
    if (!qname.includes(':')) return ['', qname];
    const parts = qname.split(':');
    if (parts.length > 2 || parts[0] === '' || parts[1] === '') this.fail(`"${qname}" is not a valid qualified name`, at);
    return [parts[0]!, parts[1]!];
  }

  private resolve(prefix: string, at: number, isElement: boolean): string {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const ns = this.scopes[i]!.get(prefix);
      if (ns !== undefined) return ns;
    }
    if (prefix === '' && isElement) return '';
    return this.fail(`the namespace prefix "${prefix}" is not declared`, at);
  }

  private skipWhitespace(): boolean {
    WHITESPACE.lastIndex = this.pos;
    const m = WHITESPACE.exec(this.src)!;
    this.pos += m[0].length;
    return m[0].length > 0;
  }

  private fail(problem: string, at = this.pos): never {
    const column = at - this.src.lastIndexOf('\n', at - 1);
    throw new XmlSyntaxError(problem, lineAt(this.src, at), column);
  }
}

function normalizeNewlines(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/** 1-based line of an offset; computed only when a message needs it. */
export function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = source.indexOf('\n'); i >= 0 && i < offset; i = source.indexOf('\n', i + 1)) line++;
  return line;
}

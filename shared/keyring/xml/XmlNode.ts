/**
 * A namespace-aware XML tree that remembers where every node came from in the source text,
 * so elements ringkeeper does not touch can be written back exactly as they were read.
 * Offsets are UTF-16 indices into the decoded source string (`start` inclusive, `end` exclusive).
 */
export interface XmlSpan {
  start: number;
  end: number;
}

export interface XmlAttribute {
  /** Qualified name as written (`p4:requiresEncryption`). */
  qname: string;
  localName: string;
  /** Resolved namespace URI; '' for no namespace. */
  namespace: string;
  value: string;
}

export interface XmlElement extends XmlSpan {
  kind: 'element';
  qname: string;
  localName: string;
  namespace: string;
  attributes: XmlAttribute[];
  children: XmlNode[];
}

export interface XmlText extends XmlSpan {
  kind: 'text';
  /** Decoded character data (entities resolved; CDATA content verbatim). */
  value: string;
  cdata: boolean;
}

export interface XmlComment extends XmlSpan {
  kind: 'comment';
  value: string;
}

export interface XmlProcessingInstruction extends XmlSpan {
  kind: 'pi';
  target: string;
  data: string;
}

export type XmlNode = XmlElement | XmlText | XmlComment | XmlProcessingInstruction;

export interface XmlDocument {
  /** The decoded source the offsets refer to (without a BOM). */
  source: string;
  hadBom: boolean;
  /** The `<?xml ...?>` declaration, if present, with its `encoding` when it names one. */
  declaration?: XmlSpan & { encoding?: string };
  root: XmlElement;
}

export function elementChildren(element: XmlElement): XmlElement[] {
  return element.children.filter((c): c is XmlElement => c.kind === 'element');
}

/** Concatenated descendant text, as XLinq's `(string)element` returns (iterative: any depth). */
export function textContent(node: XmlNode): string {
  let text = '';
  const pending: XmlNode[] = [node];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (next.kind === 'text') text += next.value;
    else if (next.kind === 'element') for (let i = next.children.length - 1; i >= 0; i--) pending.push(next.children[i]!);
  }
  return text;
}

export function attribute(element: XmlElement, localName: string, namespace = ''): string | undefined {
  return element.attributes.find((a) => a.localName === localName && a.namespace === namespace)?.value;
}

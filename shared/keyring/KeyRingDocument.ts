import { TextDecoder } from 'node:util';
import type { KeyEntry, KeyProtection, KeyRing, RevocationEntry, UnreadableKey } from './KeyRing';
import { REVOKE_ALL } from './KeyRing';
import { KeyRingFormatError } from './KeyRingFormatError';
import { parseDotnetDate } from './dotnetDate';
import { normalizeGuid } from './guid';
import { describeEncryptedData } from './protectors/CertificateXmlEncryptor';
import { DATA_PROTECTION_NAMESPACE, REPOSITORY_ELEMENT, XML_DECLARATION } from './XmlConstants';
import { attribute, elementChildren, textContent, type XmlDocument, type XmlElement } from './xml/XmlNode';
import { lineAt, parseXml, XmlSyntaxError } from './xml/parseXml';

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** Byte order marks System.Xml detects besides UTF-8's, longest first. */
const OTHER_BOMS: [Buffer, string][] = [
  [Buffer.from([0xff, 0xfe, 0x00, 0x00]), 'UTF-32 (little-endian)'],
  [Buffer.from([0x00, 0x00, 0xfe, 0xff]), 'UTF-32 (big-endian)'],
  [Buffer.from([0xff, 0xfe]), 'UTF-16 (little-endian)'],
  [Buffer.from([0xfe, 0xff]), 'UTF-16 (big-endian)'],
];
/** Names .NET's Encoding.GetEncoding maps to UTF-8. */
const UTF8_NAMES = new Set(['utf-8', 'unicode-1-1-utf-8', 'unicode-2-0-utf-8', 'x-unicode20utf8']);
/** Single-byte encodings .NET reads without a code-page provider (US-ASCII, ISO-8859-1, and their aliases). */
const READABLE_NAMES = new Set([
  'us-ascii',
  'ascii',
  'us',
  'ansi_x3.4-1968',
  'ansi_x3.4-1986',
  'cp367',
  'csascii',
  'ibm367',
  'iso-ir-6',
  'iso646-us',
  'iso_646.irv:1991',
  'iso-8859-1',
  'cp819',
  'csisolatin1',
  'ibm819',
  'iso-ir-100',
  'iso8859-1',
  'iso_8859-1',
  'iso_8859-1:1987',
  'l1',
  'latin1',
]);
const UNICODE_NAME = /^(utf-?16|utf-?32|ucs-?2|ucs-?4|unicode|utf-16[bl]e|utf-32[bl]e|unicodefffe)$/i;

function notWritten(what: string): KeyRingFormatError {
  return new KeyRingFormatError(
    'document',
    `${what}: ASP.NET Core can read this ring, but ringkeeper writes rings only in UTF-8 (what ASP.NET Core's blob repository writes) ` +
      'and writes back every byte it does not change, so it will not rewrite a ring in another encoding; ' +
      're-save the blob as UTF-8 with encoding="utf-8" (every element kept) to manage it with ringkeeper',
    'keyring_unsupported_encoding',
  );
}
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * One key ring blob: the parsed ring plus the exact source text, so that serialising writes back
 * every element it did not add or delete byte for byte, in place.
 */
export class KeyRingDocument {
  private readonly additions: string[] = [];
  private readonly deletions = new Set<XmlElement>();
  private readonly replacements = new Map<XmlElement, string>();

  private constructor(
    private readonly document: XmlDocument | undefined,
    readonly ring: KeyRing,
    /** Top-level elements other than key and revocation: kept verbatim. */
    readonly unknownElements: readonly XmlElement[],
    /** Keys ASP.NET Core would skip: kept verbatim, reported, not used. */
    readonly unreadableKeys: readonly UnreadableKey[],
  ) {}

  /** An empty ring (missing or zero-length blob). */
  static empty(): KeyRingDocument {
    return new KeyRingDocument(undefined, { keys: [], revocations: [] }, [], []);
  }

  /** Parses blob content; throws KeyRingFormatError naming the element and the problem. */
  static parse(content: Uint8Array | undefined, options: { bomOnlyAsEmpty?: boolean } = {}): KeyRingDocument {
    if (!content || content.length === 0) return KeyRingDocument.empty();
    const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    const hadBom = bytes.subarray(0, 3).equals(UTF8_BOM);
    const otherBom = OTHER_BOMS.find(([bom]) => bytes.subarray(0, bom.length).equals(bom));
    if (otherBom) throw notWritten(`is encoded in ${otherBom[1]} (byte order mark ${[...otherBom[0]].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ')})`);
    let text: string;
    try {
      text = strictUtf8.decode(hadBom ? bytes.subarray(3) : bytes);
    } catch {
      throw new KeyRingFormatError('document', 'is not valid UTF-8');
    }
    if (hadBom && text.length === 0) {
      // AzureBlobXmlRepository short-circuits only a zero-length blob: XDocument.Load fails on this one.
      if (options.bomOnlyAsEmpty) return KeyRingDocument.empty();
      throw new KeyRingFormatError(
        'document',
        'holds only a UTF-8 byte order mark: apps cannot read this ring (ASP.NET Core: "Root element is missing"); `ringkeeper repair` replaces it with a new ring',
      );
    }
    let document: XmlDocument;
    try {
      document = parseXml(text, hadBom);
    } catch (err) {
      if (err instanceof XmlSyntaxError) throw new KeyRingFormatError('document', `is not well-formed XML: ${err.message}`);
      throw err;
    }
    checkDeclaredEncoding(document.declaration?.encoding);
    checkRootNamespace(document.root, text);
    const ring: KeyRing = { keys: [], revocations: [] };
    const unknown: XmlElement[] = [];
    const unreadable: UnreadableKey[] = [];
    const ids = new Map<string, XmlElement>();
    for (const element of elementChildren(document.root)) {
      if (element.namespace === '' && element.localName === 'key') {
        // As XmlKeyManager: a key whose id or dates do not parse is skipped, not fatal.
        let key: KeyEntry;
        try {
          key = readKey(element, text);
        } catch (err) {
          if (!(err instanceof KeyRingFormatError)) throw err;
          unreadable.push({ element, problem: err.message });
          continue;
        }
        const previous = ids.get(key.id);
        if (previous) {
          throw new KeyRingFormatError(where(element, text, attribute(element, 'id')), `the key {${key.id}} already exists in the key ring (first at line ${lineAt(text, previous.start)})`);
        }
        ids.set(key.id, element);
        ring.keys.push(key);
      } else if (element.namespace === '' && element.localName === 'revocation') {
        ring.revocations.push(readRevocation(element, text));
      } else {
        unknown.push(element);
      }
    }
    return new KeyRingDocument(document, ring, unknown, unreadable);
  }

  /** Appends an element ringkeeper built (already serialised, no formatting) at the end of the ring. */
  append(elementXml: string): void {
    this.additions.push(elementXml);
  }

  /** Deletes an element that was read from this document (retention). */
  delete(element: XmlElement): void {
    this.deletions.add(element);
  }

  /** Replaces an element read from this document, at any depth, with new XML (re-wrap of a key's secret). */
  replace(element: XmlElement, elementXml: string): void {
    this.replacements.set(element, elementXml);
  }

  /** The exact source text of an element read from this document. */
  sourceOf(element: XmlElement): string {
    return this.document ? this.document.source.slice(element.start, element.end) : '';
  }

  /** Top-level elements the serialised document will hold. */
  get elementCount(): number {
    const read = this.document ? elementChildren(this.document.root).length : 0;
    return read + this.additions.length - this.deletions.size;
  }

  /** The blob content: untouched bytes where nothing changed, the same BOM choice as the source. */
  serialize(): Buffer {
    const added = this.additions.join('');
    if (!this.document) {
      return Buffer.from(`${XML_DECLARATION}<${REPOSITORY_ELEMENT}>${added}</${REPOSITORY_ELEMENT}>`, 'utf8');
    }
    const { source, root, hadBom } = this.document;
    // Deletions and replacements never overlap: one is a top-level element, the other inside a key.
    const cuts = [...[...this.deletions].map((e) => ({ e, with: '' })), ...[...this.replacements].map(([e, xml]) => ({ e, with: xml }))].sort((a, b) => a.e.start - b.e.start);
    let text = '';
    let cursor = 0;
    const selfClosing = source.startsWith('/>', root.end - 2);
    const insertAt = selfClosing ? root.end - 2 : source.lastIndexOf('</', root.end - 1);
    for (const cut of cuts) {
      text += source.slice(cursor, cut.e.start) + cut.with;
      cursor = cut.e.end;
    }
    text += source.slice(cursor, insertAt);
    text += selfClosing ? `>${added}</${root.qname}>` : added;
    text += source.slice(selfClosing ? root.end : insertAt);
    const body = Buffer.from(text, 'utf8');
    return hadBom ? Buffer.concat([UTF8_BOM, body]) : body;
  }
}

function readKey(element: XmlElement, source: string): KeyEntry {
  const rawId = attribute(element, 'id');
  const fail = (problem: string): never => {
    throw new KeyRingFormatError(where(element, source, rawId), problem);
  };
  if (rawId === undefined) return fail('has no id attribute');
  const id = normalizeGuid(rawId) ?? fail(`the id "${rawId}" is not a GUID`);
  const date = (name: string): number => {
    const child = elementChildren(element).find((c) => c.namespace === '' && c.localName === name);
    if (!child) return fail(`has no <${name}>`);
    const text = textContent(child);
    return parseDotnetDate(text) ?? fail(`<${name}> "${text}" is not an xsd:dateTime`);
  };
  const creationDate = date('creationDate');
  const activationDate = date('activationDate');
  const expirationDate = date('expirationDate');
  // The descriptor is read lazily by ASP.NET Core (a bad one only fails CreateEncryptor), so it is not checked here.
  const descriptor = elementChildren(element).find((c) => c.namespace === '' && c.localName === 'descriptor');
  return { id, creationDate, activationDate, expirationDate, ...(descriptor ? readProtection(descriptor) : { protection: 'unknown' as const }), element };
}

/** The certificate a secret is encrypted to; a malformed one only fails decryption, as in ASP.NET Core. */
function certificateOf(secret: XmlElement): string | undefined {
  const encryptedData = elementChildren(secret)[0];
  try {
    return encryptedData ? describeEncryptedData(encryptedData).thumbprints[0] : undefined;
  } catch {
    return undefined;
  }
}

function readProtection(descriptor: XmlElement): { protection: KeyProtection; kid?: string; certificateThumbprint?: string } {
  const secret = findDescendant(descriptor, (e) => e.namespace === DATA_PROTECTION_NAMESPACE && e.localName === 'encryptedSecret');
  if (!secret) {
    const masterKey = findDescendant(descriptor, (e) => e.localName === 'masterKey');
    return { protection: masterKey ? 'none' : 'unknown' };
  }
  const decryptorType = attribute(secret, 'decryptorType') ?? '';
  const typeName = decryptorType.split(',')[0]!.trim();
  if (typeName.endsWith('.AzureKeyVaultXmlDecryptor')) {
    const kidElement = findDescendant(secret, (e) => e.localName === 'kid');
    const kid = kidElement ? textContent(kidElement).trim() : undefined;
    return { protection: kid?.startsWith('urn:ringkeeper:rsa:') ? 'rsa' : 'keyvault', kid };
  }
  if (typeName.endsWith('.EncryptedXmlDecryptor')) return { protection: 'certificate', certificateThumbprint: certificateOf(secret) };
  if (/\.Dpapi(NG)?XmlDecryptor$/.test(typeName)) return { protection: 'dpapi' };
  return { protection: 'unknown' };
}

function readRevocation(element: XmlElement, source: string): RevocationEntry {
  const fail = (problem: string): never => {
    throw new KeyRingFormatError(where(element, source), problem);
  };
  // As XmlKeyManager.ProcessRevocationElement: any failure here is fatal for the whole ring.
  const children = elementChildren(element).filter((c) => c.namespace === '');
  const keyElement = children.find((c) => c.localName === 'key') ?? fail('has no <key id="..."> (which key it revokes)');
  const rawId = attribute(keyElement, 'id') ?? fail('<key> has no id attribute');
  const keyId = rawId === REVOKE_ALL ? REVOKE_ALL : (normalizeGuid(rawId) ?? fail(`<key id="${rawId}"> is neither a GUID nor "*"`));
  const dateElement = children.find((c) => c.localName === 'revocationDate');
  const dateText = dateElement ? textContent(dateElement) : undefined;
  const revocationDate = dateText === undefined ? undefined : parseDotnetDate(dateText);
  // Only a mass revocation's date is read; a single-key revocation stands without one.
  if (keyId === REVOKE_ALL && revocationDate === undefined) {
    fail(dateText === undefined ? 'revokes all keys but has no <revocationDate>' : `<revocationDate> "${dateText}" is not an xsd:dateTime`);
  }
  const reasonElement = children.find((c) => c.localName === 'reason');
  return { keyId, revocationDate, reason: reasonElement ? textContent(reasonElement) : '', element };
}

/** Depth-first, document order, without recursion (a descriptor may nest arbitrarily deep). */
function findDescendant(element: XmlElement, match: (e: XmlElement) => boolean): XmlElement | undefined {
  const pending = elementChildren(element).reverse();
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (match(next)) return next;
    pending.push(...elementChildren(next).reverse());
  }
  return undefined;
}

/**
 * As System.Xml reading a blob stream: UTF-8 and its aliases are read; UTF-16/32 without their
 * byte order mark fail ("There is no Unicode byte order mark. Cannot switch to Unicode."), as do
 * names .NET does not know; US-ASCII and ISO-8859-1 are read by .NET but not rewritten here.
 */
function checkDeclaredEncoding(encoding: string | undefined): void {
  if (encoding === undefined) return;
  const name = encoding.toLowerCase();
  if (UTF8_NAMES.has(name)) return;
  if (READABLE_NAMES.has(name)) throw notWritten(`declares encoding="${encoding}"`);
  if (UNICODE_NAME.test(name)) {
    throw new KeyRingFormatError(
      'document',
      `declares encoding="${encoding}" but has no matching byte order mark: ASP.NET Core cannot read it ("There is no Unicode byte order mark. Cannot switch to Unicode.")`,
    );
  }
  throw new KeyRingFormatError('document', `declares encoding="${encoding}", which ASP.NET Core cannot read ("System does not support '${encoding}' encoding")`);
}

/**
 * A default namespace on the root puts every unprefixed child in it: ASP.NET Core then finds no
 * <key> or <revocation> (it skips them all as unknown elements), and keys ringkeeper appended would
 * land in that namespace too.
 */
function checkRootNamespace(root: XmlElement, source: string): void {
  const declared = root.attributes.find((a) => a.qname === 'xmlns')?.value;
  if (declared) {
    throw new KeyRingFormatError(
      `<${root.qname}> at line ${lineAt(source, root.start)}`,
      `declares the default namespace "${declared}": ASP.NET Core reads its children as elements of that namespace, not as keys or revocations, so apps see no key in this ring`,
    );
  }
}

function where(element: XmlElement, source: string, id?: string): string {
  return `<${element.qname}${id ? ` id="${id}"` : ''}> at line ${lineAt(source, element.start)}`;
}

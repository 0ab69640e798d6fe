import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyRingDocument } from '../../../shared/keyring/KeyRingDocument';
import { KeyRingFormatError } from '../../../shared/keyring/KeyRingFormatError';
import { keyXml, masterKeyXml, revocationXml } from '../../../shared/keyring/KeyXmlWriter';
import { isRevoked } from '../../../shared/keyring/KeyRing';

const fixture = readFileSync(path.join(__dirname, '../../fixtures/keyrings/aspnetcore-unencrypted.xml'));
const KEY_ID = '3d6d01fd-c0e7-44ae-82dd-013b996b4093';
const dates = { creationDate: Date.UTC(2030, 0, 1), activationDate: Date.UTC(2030, 0, 3), expirationDate: Date.UTC(2030, 3, 3) };

describe('KeyRingDocument.parse', () => {
  it('reads keys, revocations and what it does not understand', () => {
    const doc = KeyRingDocument.parse(fixture);
    expect(doc.ring.keys).toHaveLength(1);
    const key = doc.ring.keys[0]!;
    expect(key).toMatchObject({ id: KEY_ID, protection: 'none' });
    expect(key.creationDate).toBeCloseTo(Date.UTC(2015, 2, 2, 3, 13, 19, 757) + 0.3854, 3);
    expect(doc.ring.revocations).toHaveLength(1);
    // The revocation names the key in B format and upper case: same key.
    expect(doc.ring.revocations[0]!.keyId).toBe(KEY_ID);
    expect(isRevoked(doc.ring, key)).toBe(true);
    expect(doc.unknownElements.map((e) => e.qname)).toEqual(['custom:audit']);
  });

  it.each([
    ['a missing blob', undefined],
    ['a zero-length blob', Buffer.alloc(0)],
  ])('treats %s as an empty ring', (_label, content) => {
    const doc = KeyRingDocument.parse(content);
    expect(doc.ring.keys).toEqual([]);
    doc.append('<key />');
    expect(doc.serialize().toString('utf8')).toBe('<?xml version="1.0" encoding="utf-8"?><repository><key /></repository>');
  });

  // Issue #11 item 8(b): the blob repository short-circuits only a zero-length blob; apps fail on this one.
  it('refuses a blob holding only a BOM (apps cannot read it), unless repair explicitly reads it as empty', () => {
    const bomOnly = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(() => KeyRingDocument.parse(bomOnly)).toThrow(/holds only a UTF-8 byte order mark: apps cannot read this ring .*Root element is missing.*ringkeeper repair/);
    const doc = KeyRingDocument.parse(bomOnly, { bomOnlyAsEmpty: true });
    expect(doc.ring.keys).toEqual([]);
  });

  // Issue #11 item 8(a): declarations System.Xml refuses are refused, before anything is written.
  it.each([
    ['encoding="utf-16" without its BOM', 'utf-16', /encoding="utf-16" but has no matching byte order mark: ASP.NET Core cannot read it/],
    ['encoding="utf-32" without its BOM', 'utf-32', /encoding="utf-32" but has no matching byte order mark/],
    ['an unknown encoding name', 'x-klingon', /encoding="x-klingon", which ASP.NET Core cannot read/],
    ['windows-1252 (no code-page provider in ASP.NET Core)', 'windows-1252', /which ASP.NET Core cannot read/],
  ])('refuses a declaration with %s as malformed', (_label, encoding, message) => {
    const content = Buffer.from(fixture.toString('utf8').replace('encoding="utf-8"', `encoding="${encoding}"`));
    expect(() => KeyRingDocument.parse(content)).toThrow(message);
    try {
      KeyRingDocument.parse(content);
    } catch (err) {
      expect((err as KeyRingFormatError).code).toBe('keyring_malformed');
    }
  });

  it('refuses version="1.1" as System.Xml does, and accepts UTF-8 spelled in upper case', () => {
    const text = fixture.toString('utf8');
    expect(() => KeyRingDocument.parse(Buffer.from(text.replace('version="1.0"', 'version="1.1"')))).toThrow(/version "1.1" in the XML declaration is not supported/);
    expect(KeyRingDocument.parse(Buffer.from(text.replace('encoding="utf-8"', 'encoding="UTF-8"'))).ring.keys).toHaveLength(1);
  });

  // Issue #11 item 8(e): readable by ASP.NET Core, refused with the reason ringkeeper will not write them.
  it.each([
    [
      'UTF-16 with a BOM',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(fixture.toString('utf8').replace('encoding="utf-8"', 'encoding="utf-16"'), 'utf16le')]),
      /encoded in UTF-16 \(little-endian\) \(byte order mark FF FE\)/,
    ],
    ['ISO-8859-1', Buffer.from(fixture.toString('utf8').replace('encoding="utf-8"', 'encoding="ISO-8859-1"'), 'latin1'), /declares encoding="ISO-8859-1"/],
  ])('refuses a ring in %s, saying ASP.NET Core can read it and why ringkeeper will not write it', (_label, content, what) => {
    let error: KeyRingFormatError | undefined;
    try {
      KeyRingDocument.parse(content);
    } catch (err) {
      error = err as KeyRingFormatError;
    }
    expect(error?.code).toBe('keyring_unsupported_encoding');
    expect(error?.message).toMatch(what);
    expect(error?.message).toMatch(/ASP.NET Core can read this ring, but ringkeeper writes rings only in UTF-8/);
  });

  // Issue #11 item 8(d).
  it('refuses a default namespace on the root, whose children ASP.NET Core would not read as keys', () => {
    const content = Buffer.from(fixture.toString('utf8').replace('<repository>', '<repository xmlns="urn:x">'));
    expect(() => KeyRingDocument.parse(content)).toThrow(/<repository> at line \d+: declares the default namespace "urn:x": .*apps see no key/);
  });

  // Issue #11 item 8(c): System.Xml has no depth limit; a recursive parser overflowed the stack.
  it('reads 100,000 nested unknown elements next to a key (no recursion, no depth limit)', () => {
    const depth = 100_000;
    const nested = `${'<n>'.repeat(depth)}x${'</n>'.repeat(depth)}`;
    const text = fixture.toString('utf8').replace('</repository>', `${nested}</repository>`);
    const doc = KeyRingDocument.parse(Buffer.from(text));
    expect(doc.ring.keys.map((k) => k.id)).toEqual([KEY_ID]);
    expect(doc.unknownElements.at(-1)!.qname).toBe('n');
    doc.append('<x />');
    expect(doc.serialize().toString('utf8')).toBe(text.replace('</repository>', '<x /></repository>'));
    const deepKey = keyXml(KEY_ID, dates, masterKeyXml()).replace('<descriptor', `${nested}<descriptor`);
    expect(KeyRingDocument.parse(Buffer.from(`<repository>${deepKey}</repository>`)).ring.keys[0]!.protection).toBe('none');
  });

  it('accepts a UTF-8 BOM and keeps it', () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fixture]);
    const doc = KeyRingDocument.parse(withBom);
    expect(doc.ring.keys).toHaveLength(1);
    expect(doc.serialize().equals(withBom)).toBe(true);
  });

  it.each([
    ['truncated XML', fixture.subarray(0, fixture.length - 20), /document: is not well-formed XML: .*\(line 21, column \d+\)/],
    ['a DTD', Buffer.from('<?xml version="1.0"?><!DOCTYPE repository [<!ENTITY x "y">]><repository/>'), /DTD is not allowed/],
    ['invalid UTF-8', Buffer.from([0x3c, 0x72, 0xff, 0x3e]), /not valid UTF-8/],
    ['no root element', Buffer.from('<?xml version="1.0"?>'), /root element is missing/],
    [
      'a duplicate key id',
      Buffer.from(`<repository>${keyXml(KEY_ID, dates, masterKeyXml())}${keyXml(KEY_ID.toUpperCase(), dates, masterKeyXml())}</repository>`),
      /<key id="3D6D01FD-.*"> at line 1: the key \{3d6d01fd-c0e7-44ae-82dd-013b996b4093\} already exists in the key ring/,
    ],
    [
      'a revocation with an invalid id (XmlKeyManagerTests: FormatException)',
      Buffer.from(`<repository>${revocationXml(KEY_ID, 0, 'x').replace(KEY_ID, '{invalid}')}</repository>`),
      /<revocation> at line 1: <key id="\{invalid\}"> is neither a GUID nor "\*"/,
    ],
    ['a mass revocation without a date', Buffer.from('<repository><revocation version="1"><key id="*"/></revocation></repository>'), /revokes all keys but has no <revocationDate>/],
    [
      'a mass revocation with a bad date',
      Buffer.from('<repository><revocation version="1"><revocationDate>soon</revocationDate><key id="*"/></revocation></repository>'),
      /<revocationDate> "soon" is not an xsd:dateTime/,
    ],
    ['a revocation without a key', Buffer.from('<repository><revocation version="1"><revocationDate>2015-01-01T00:00:00Z</revocationDate></revocation></repository>'), /has no <key id=/],
  ])('refuses %s with an error naming the element and the problem', (_label, content, message) => {
    expect(() => KeyRingDocument.parse(content)).toThrow(KeyRingFormatError);
    expect(() => KeyRingDocument.parse(content)).toThrow(message);
  });

  it.each([
    ['without an id', '<key version="1"/>', /<key> at line 1: has no id attribute/],
    ['whose id is not a GUID', '<key id="{invalid}"/>', /the id "\{invalid\}" is not a GUID/],
    ['with an unparseable date', keyXml(KEY_ID, dates, masterKeyXml()).replace(/<expirationDate>[^<]*/, '<expirationDate>soon'), /<expirationDate> "soon" is not an xsd:dateTime/],
    ['without a creation date', keyXml(KEY_ID, dates, masterKeyXml()).replace(/<creationDate>[^<]*<\/creationDate>/, ''), /has no <creationDate>/],
  ])('keeps a key %s unused, as XmlKeyManager skips it, and reports why', (_label, broken, problem) => {
    const good = keyXml('00000000-0000-0000-0000-0000000000aa', dates, masterKeyXml());
    const content = Buffer.from(`<repository>${broken}${good}</repository>`);
    const doc = KeyRingDocument.parse(content);
    expect(doc.ring.keys.map((k) => k.id)).toEqual(['00000000-0000-0000-0000-0000000000aa']);
    expect(doc.unreadableKeys).toHaveLength(1);
    expect(doc.unreadableKeys[0]!.problem).toMatch(problem);
    doc.append('<x />');
    expect(doc.serialize().toString('utf8')).toBe(`<repository>${broken}${good}<x /></repository>`);
  });

  it('reads a single-key revocation without a readable date, as XmlKeyManager does', () => {
    const doc = KeyRingDocument.parse(
      Buffer.from(
        `<repository>${keyXml(KEY_ID, dates, masterKeyXml())}<revocation version="1"><revocationDate>yesterday</revocationDate><key id="${KEY_ID}" /></revocation><revocation version="1"><key id="${KEY_ID}" /></revocation></repository>`,
      ),
    );
    expect(doc.ring.revocations.map((r) => [r.keyId, r.revocationDate])).toEqual([
      [KEY_ID, undefined],
      [KEY_ID, undefined],
    ]);
    expect(isRevoked(doc.ring, doc.ring.keys[0]!)).toBe(true);
  });

  it('reads a key without a descriptor (ASP.NET Core reads descriptors lazily) with unknown protection', () => {
    const doc = KeyRingDocument.parse(Buffer.from(`<repository>${keyXml(KEY_ID, dates, '').replace(/<descriptor.*<\/descriptor>/, '')}</repository>`));
    expect(doc.ring.keys.map((k) => [k.id, k.protection])).toEqual([[KEY_ID, 'unknown']]);
  });

  it('recognises how each key is protected', () => {
    const secret = (decryptorType: string, inner: string) => `<encryptedSecret decryptorType="${decryptorType}" xmlns="http://schemas.asp.net/2015/03/dataProtection">${inner}</encryptedSecret>`;
    const ids = ['00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000004'];
    const xml =
      '<repository>' +
      keyXml(
        ids[0]!,
        dates,
        secret('Azure.Extensions.AspNetCore.DataProtection.Keys.AzureKeyVaultXmlDecryptor, X', '<encryptedKey xmlns=""><kid>https://v.vault.azure.net/keys/k/1</kid></encryptedKey>'),
      ) +
      keyXml(ids[1]!, dates, secret('Azure.Extensions.AspNetCore.DataProtection.Keys.AzureKeyVaultXmlDecryptor, X', '<encryptedKey xmlns=""><kid>urn:ringkeeper:rsa:sha256:abc</kid></encryptedKey>')) +
      keyXml(
        ids[2]!,
        dates,
        secret('Microsoft.AspNetCore.DataProtection.XmlEncryption.EncryptedXmlDecryptor, Microsoft.AspNetCore.DataProtection', '<EncryptedData xmlns="http://www.w3.org/2001/04/xmlenc#"/>'),
      ) +
      keyXml(ids[3]!, dates, masterKeyXml()) +
      '</repository>';
    expect(KeyRingDocument.parse(Buffer.from(xml)).ring.keys.map((k) => [k.protection, k.kid])).toEqual([
      ['keyvault', 'https://v.vault.azure.net/keys/k/1'],
      ['rsa', 'urn:ringkeeper:rsa:sha256:abc'],
      ['certificate', undefined],
      ['none', undefined],
    ]);
  });
});

describe('KeyRingDocument.serialize', () => {
  it('writes back a ring it did not change byte for byte', () => {
    expect(KeyRingDocument.parse(fixture).serialize().equals(fixture)).toBe(true);
  });

  it('appends new elements before the end of the root and leaves every other byte in place', () => {
    const doc = KeyRingDocument.parse(fixture);
    const added = revocationXml('*', Date.UTC(2031, 0, 1), 'rotate everything');
    doc.append(added);
    const out = doc.serialize().toString('utf8');
    const end = fixture.toString('utf8').lastIndexOf('</repository>');
    expect(out).toBe(fixture.toString('utf8').slice(0, end) + added + fixture.toString('utf8').slice(end));
    expect(KeyRingDocument.parse(Buffer.from(out)).ring.revocations).toHaveLength(2);
  });

  it('expands a self-closing root, keeping its attributes', () => {
    const doc = KeyRingDocument.parse(Buffer.from('<?xml version="1.0" encoding="utf-8"?><repository a="1"/>'));
    doc.append('<x />');
    expect(doc.serialize().toString('utf8')).toBe('<?xml version="1.0" encoding="utf-8"?><repository a="1"><x /></repository>');
  });

  it('deletes exactly the elements it is told to', () => {
    const doc = KeyRingDocument.parse(fixture);
    doc.delete(doc.ring.revocations[0]!.element);
    const out = doc.serialize().toString('utf8');
    expect(out).not.toContain('<revocation');
    expect(out).toContain('<custom:audit xmlns:custom="urn:example:audit" by="ops &amp; sec">kept <b>verbatim</b> &#x263A;</custom:audit>');
    expect(out.length).toBe(fixture.toString('utf8').length - doc.ring.revocations[0]!.element.end + doc.ring.revocations[0]!.element.start);
  });
});

describe('new elements', () => {
  it('writes a key exactly as XmlKeyManager.CreateNewKey builds it', () => {
    const xml = keyXml(
      '00000000-0000-0000-0000-0000000000aa',
      { creationDate: Date.UTC(2030, 0, 1, 12), activationDate: Date.UTC(2030, 0, 3, 12, 0, 0, 250), expirationDate: Date.UTC(2030, 3, 3) },
      '<SECRET />',
    );
    expect(xml).toBe(
      '<key id="00000000-0000-0000-0000-0000000000aa" version="1"><creationDate>2030-01-01T12:00:00Z</creationDate><activationDate>2030-01-03T12:00:00.25Z</activationDate>' +
        '<expirationDate>2030-04-03T00:00:00Z</expirationDate><descriptor deserializerType="Microsoft.AspNetCore.DataProtection.AuthenticatedEncryption.ConfigurationModel.AuthenticatedEncryptorDescriptorDeserializer, Microsoft.AspNetCore.DataProtection, Version=8.0.0.0, Culture=neutral, PublicKeyToken=adb9793829ddae60">' +
        '<descriptor><encryption algorithm="AES_256_CBC" /><validation algorithm="HMACSHA256" /><SECRET /></descriptor></descriptor></key>',
    );
  });

  it('marks a 64-byte random master key requiresEncryption in the Data Protection namespace', () => {
    const a = masterKeyXml();
    const value = /<value>([^<]+)<\/value>/.exec(a)![1]!;
    expect(Buffer.from(value, 'base64')).toHaveLength(64);
    expect(a).toMatch(/^<masterKey p4:requiresEncryption="true" xmlns:p4="http:\/\/schemas\.asp\.net\/2015\/03\/dataProtection"><!-- Warning: the key below is in an unencrypted form\. --><value>/);
    expect(masterKeyXml()).not.toBe(a);
  });

  it('writes revocations as XmlKeyManager does, escaping the reason', () => {
    expect(revocationXml(KEY_ID, Date.UTC(2015, 2, 2, 3, 13, 19), 'a < b & c')).toBe(
      `<revocation version="1"><revocationDate>2015-03-02T03:13:19Z</revocationDate><key id="${KEY_ID}" /><reason>a &lt; b &amp; c</reason></revocation>`,
    );
    expect(revocationXml('*', Date.UTC(2015, 2, 2), undefined)).toBe(
      '<revocation version="1"><revocationDate>2015-03-02T00:00:00Z</revocationDate><!-- All keys created before the revocation date are revoked. --><key id="*" /><reason /></revocation>',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { parseXml, XmlSyntaxError } from '../../../shared/keyring/xml/parseXml';
import { attribute, elementChildren, textContent } from '../../../shared/keyring/xml/XmlNode';

describe('parseXml', () => {
  it('resolves namespaces, entities, character references and CDATA', () => {
    const doc = parseXml('<?xml version="1.0" encoding="utf-8"?><r xmlns:p="urn:p"><p:a p:x="1 &amp; 2" y=\'&#65;&#x42;\'>t&lt;<![CDATA[<raw>]]><!--c--><?pi data?></p:a></r>');
    const a = elementChildren(doc.root)[0]!;
    expect([a.localName, a.namespace]).toEqual(['a', 'urn:p']);
    expect(attribute(a, 'x', 'urn:p')).toBe('1 & 2');
    expect(attribute(a, 'y')).toBe('AB');
    expect(textContent(a)).toBe('t<<raw>');
    expect(a.children.map((c) => c.kind)).toEqual(['text', 'text', 'comment', 'pi']);
    expect(doc.declaration).toEqual({ start: 0, end: 38, encoding: 'utf-8' });
  });

  it('records exact source spans of elements', () => {
    const src = '<r>\n  <a b="1" >x</a >\n  <c/></r>';
    const [a, c] = elementChildren(parseXml(src).root);
    expect(src.slice(a!.start, a!.end)).toBe('<a b="1" >x</a >');
    expect(src.slice(c!.start, c!.end)).toBe('<c/>');
  });

  it.each([
    ['<r><a></r>', /end tag <\/r> does not match the start tag <a>/],
    ['<r>', /not closed/],
    ['<r a="1" a="2"/>', /attribute "a" appears twice/],
    ['<r xmlns:p="u" xmlns:q="u" p:a="1" q:a="2"/>', /duplicates another attribute .* after namespace resolution/],
    ['<p:r/>', /prefix "p" is not declared/],
    ['<r a=1/>', /must be quoted/],
    ['<r>&nbsp;</r>', /entity "&nbsp;" is not defined/],
    ['<r>&#0;</r>', /not a valid character reference/],
    ['<r><!-- a -- b --></r>', /"--" is not allowed inside a comment/],
    ['<r/><r/>', /multiple root elements/],
    ['text<r/>', /data is not allowed before the root element/],
    ['<r/>text', /data is not allowed after the root element/],
    ['<r>]]></r>', /"]]>" is not allowed in text/],
    ['<r>\u0001</r>', /U\+0001 is not allowed/],
    ['<r/><?xml version="1.0"?>', /only allowed at the very start/],
    ['<!DOCTYPE r><r/>', /DTD is not allowed/],
    ['<r a="<"/>', /"<" is not allowed in the value/],
  ])('refuses %j', (src, message) => {
    expect(() => parseXml(src)).toThrow(XmlSyntaxError);
    expect(() => parseXml(src)).toThrow(message);
  });
});

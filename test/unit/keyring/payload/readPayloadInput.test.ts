import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { protectPayload } from '../../../../shared/keyring/payload/protectPayload';
import { readPayloadInput } from '../../../../shared/keyring/payload/readPayloadInput';

const payload = protectPayload({ id: '3d6d01fd-c0e7-44ae-82dd-013b996b4093', masterKey: randomBytes(64) }, ['p'], randomBytes(300));
const url = payload.toString('base64url');
const utf8 = (s: string) => Buffer.from(s, 'utf8');

describe('readPayloadInput', () => {
  it.each([
    ['raw bytes', payload, 'raw'],
    ['base64url (string overloads, cookies)', utf8(`${url}\n`), 'base64url'],
    ['base64 (the byte[] overloads printed by .NET)', utf8(payload.toString('base64')), 'base64'],
  ])('reads %s', (_label, input, format) => {
    const [found] = readPayloadInput(input);
    expect(found).toMatchObject({ format });
    expect(found!.payload.equals(payload)).toBe(true);
  });

  it('joins a chunked cookie (ChunkingCookieManager: name=chunks-N, nameC1 … nameCN), in any order and case', () => {
    const header = `Cookie: theme=dark; .AspNetCore.CookiesC2=${url.slice(100, 200)}; .AspNetCore.Cookies=chunks-3; .aspnetcore.cookiesC1=${url.slice(0, 100)}; .AspNetCore.CookiesC3=${url.slice(200)}`;
    const found = readPayloadInput(utf8(header));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ format: 'cookie', cookie: { name: '.AspNetCore.Cookies', chunks: 3 } });
    expect(found[0]!.payload.equals(payload)).toBe(true);
  });

  it('finds every payload cookie of a header and one name=value cookie', () => {
    const header = `.AspNetCore.Antiforgery.x=${url}; .AspNetCore.Session=${encodeURIComponent(url)}; other=1`;
    expect(readPayloadInput(utf8(header)).map((p) => p.cookie)).toEqual([
      { name: '.AspNetCore.Antiforgery.x', chunks: 0 },
      { name: '.AspNetCore.Session', chunks: 0 },
    ]);
  });

  it('names what is missing or wrong', () => {
    expect(() => readPayloadInput(utf8(`.AspNetCore.Cookies=chunks-2; .AspNetCore.CookiesC1=${url.slice(0, 50)}`))).toThrow(/announces 2 chunks but \.AspNetCore\.CookiesC2 is missing/);
    expect(() => readPayloadInput(utf8('a=%E0%A4%A; b=2'))).toThrow(/cookies: a, b/);
    expect(() => readPayloadInput(utf8('a=1; b=2'))).toThrow(/no cookie holds a Data Protection payload \(cookies: a, b\)/);
    expect(() => readPayloadInput(utf8('aGVsbG8gd29ybGQ'))).toThrow(/decodes to 11 bytes starting 68 65 6C 6C, not the Data Protection magic header/);
    expect(() => readPayloadInput(utf8('not a payload!'))).toThrow(/neither a payload/);
    expect(() => readPayloadInput(Buffer.alloc(0))).toThrow(/empty/);
  });
});

import { MAGIC_HEADER_V0 } from './payloadHeader';
import { PayloadError } from './PayloadError';

/** A payload found in what an operator pasted, and how it was written. */
export interface PayloadInput {
  payload: Buffer;
  /** raw bytes, base64, base64url (the string overloads, cookies, antiforgery tokens), or a cookie. */
  format: 'raw' | 'base64' | 'base64url' | 'cookie';
  /** For cookies: the cookie's name and how many chunks were joined (0: not chunked). */
  cookie?: { name: string; chunks: number };
}

const CHUNK_COUNT = /^chunks-(\d+)$/;

/**
 * Finds Data Protection payloads in raw bytes, base64 or base64url text, a single cookie
 * (`name=value`) or a Cookie header (`a=1; b=2`, `Cookie:` prefix optional), reassembling chunked
 * cookies as ChunkingCookieManager writes them (`name=chunks-N`, `nameC1` … `nameCN`). Cookies that
 * are not payloads are ignored; finding none is a PayloadError naming what was tried.
 */
export function readPayloadInput(input: Uint8Array): PayloadInput[] {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (hasMagic(bytes)) return [{ payload: bytes, format: 'raw' }];
  const text = bytes.toString('utf8').trim();
  if (text.length === 0) throw new PayloadError('payload_invalid', 'the input is empty');
  if (text.includes('=') && /^(cookie:\s*)?[^\s=;]+=/i.test(text) && !/^[A-Za-z0-9+/_-]+={1,2}$/.test(text)) return fromCookies(text);
  const decoded = decodeText(text);
  if (!decoded) throw new PayloadError('payload_invalid', 'the input is neither a payload (raw bytes starting 09 F0 C9 F0) nor base64/base64url text of one, nor a cookie');
  if (!hasMagic(decoded.payload)) throw notAPayload(decoded.payload, `the ${decoded.format} text`);
  return [decoded];
}

function fromCookies(header: string): PayloadInput[] {
  const cookies: { name: string; value: string }[] = [];
  for (const part of header.replace(/^cookie:\s*/i, '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const value = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    cookies.push({ name: part.slice(0, eq).trim(), value: unescapeCookie(value) });
  }
  // Request.Cookies looks names up case-insensitively.
  const lookup = (name: string) => cookies.find((c) => c.name.toLowerCase() === name.toLowerCase());
  const consumed = new Set<string>();
  const found: PayloadInput[] = [];
  const problems: string[] = [];
  for (const { name, value } of cookies) {
    const count = CHUNK_COUNT.exec(value);
    if (!count) continue;
    consumed.add(name.toLowerCase());
    const chunks = Number(count[1]);
    const parts: string[] = [];
    for (let i = 1; i <= chunks; i++) {
      const chunk = lookup(`${name}C${i}`);
      if (!chunk?.value) {
        problems.push(`cookie ${name} announces ${chunks} chunks but ${name}C${i} is missing`);
        break;
      }
      consumed.add(chunk.name.toLowerCase());
      parts.push(chunk.value);
    }
    if (parts.length !== chunks) continue;
    const decoded = decodeText(parts.join(''));
    if (decoded && hasMagic(decoded.payload)) found.push({ payload: decoded.payload, format: 'cookie', cookie: { name, chunks } });
    else problems.push(`the ${chunks} chunks of cookie ${name} do not join into a payload`);
  }
  for (const { name, value } of cookies) {
    if (consumed.has(name.toLowerCase())) continue;
    const decoded = decodeText(value);
    if (decoded && hasMagic(decoded.payload)) found.push({ payload: decoded.payload, format: 'cookie', cookie: { name, chunks: 0 } });
  }
  if (found.length === 0) {
    const names = cookies.map((c) => c.name).join(', ');
    throw new PayloadError('payload_invalid', `no cookie holds a Data Protection payload (cookies: ${names})${problems.length ? `; ${problems.join('; ')}` : ''}`);
  }
  return found;
}

/** Request cookie values are unescaped as ASP.NET Core's cookie parser does; a malformed escape stays as written. */
function unescapeCookie(value: string): string {
  if (!/%[0-9A-Fa-f]{2}/.test(value)) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function decodeText(text: string): PayloadInput | undefined {
  const unpadded = text.replace(/={1,2}$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  if (/^[A-Za-z0-9_-]+$/.test(unpadded)) return { payload: Buffer.from(unpadded, 'base64url'), format: 'base64url' };
  if (/^[A-Za-z0-9+/]+$/.test(unpadded)) return { payload: Buffer.from(unpadded, 'base64'), format: 'base64' };
  return undefined;
}

function hasMagic(bytes: Buffer): boolean {
  return bytes.length >= 4 && (bytes.readUInt32BE(0) & ~0xf) >>> 0 === MAGIC_HEADER_V0;
}

function notAPayload(bytes: Buffer, what: string): PayloadError {
  const start = bytes
    .subarray(0, 4)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ')
    .toUpperCase();
  return new PayloadError('payload_invalid', `${what} decodes to ${bytes.length} bytes starting ${start || '(nothing)'}, not the Data Protection magic header 09 F0 C9 F0`);
}

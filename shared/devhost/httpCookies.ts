import type { RpcHttpCookie } from './types';

/** `Set-Cookie` header values for the cookies the library's toRpcHttpCookie produced. */
export function setCookieHeaders(cookies: RpcHttpCookie[] | undefined): string[] {
  return (cookies ?? []).map((c) => {
    let header = `${c.name ?? ''}=${c.value ?? ''}`;
    if (c.domain?.value) header += `; Domain=${c.domain.value}`;
    if (c.path?.value) header += `; Path=${c.path.value}`;
    if (c.expires?.value?.seconds !== undefined) header += `; Expires=${new Date(c.expires.value.seconds * 1000).toUTCString()}`;
    if (c.maxAge?.value !== undefined) header += `; Max-Age=${Math.trunc(c.maxAge.value)}`;
    if (c.secure?.value) header += '; Secure';
    if (c.httpOnly?.value) header += '; HttpOnly';
    if (c.sameSite === 'lax') header += '; SameSite=Lax';
    else if (c.sameSite === 'strict') header += '; SameSite=Strict';
    else if (c.sameSite === 'explicitNone') header += '; SameSite=None';
    return header;
  });
}

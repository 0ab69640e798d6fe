/**
 * Queue message bodies as the Storage extension reads and writes them. With `base64` (the default)
 * the body must be strict base64, as .NET's Convert.FromBase64String requires (whitespace is
 * ignored, padding is required); a body that is not is moved to the poison queue unprocessed.
 */
export type MessageEncoding = 'base64' | 'none';

export function decodeMessage(text: string, encoding: MessageEncoding): Buffer | undefined {
  if (encoding === 'none') return Buffer.from(text, 'utf8');
  const compact = text.replace(/[\s]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

export function encodeMessage(body: string | Uint8Array, encoding: MessageEncoding): string {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  return encoding === 'base64' ? bytes.toString('base64') : bytes.toString('utf8');
}

/** `application/json` or a `+json` type, with any parameters: what JSON routes accept (else 415). */
export function isJsonContentType(contentType: string | null): boolean {
  return /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i.test((contentType ?? '').trim());
}

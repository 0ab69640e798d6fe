import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { classifyError } from '../app/classifyError';
import { openRings, type OpenRingsOptions, type RingHandle } from '../app/openRings';
import { selectRings } from '../app/selectRings';
import { requireConfigFromEnvironment } from '../config/loadConfig';
import { problemResponse } from './problem';
import { quoteUntrusted } from '../app/quoteUntrusted';
import { isJsonContentType } from './isJsonContentType';

/** A request the API cannot accept: 400 (or the given status) with this message. */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly code = 'invalid_request',
  ) {
    super(message);
  }
}

/** Largest body a key ring route reads: its bodies are a few flags, a key id and a reason. */
export const MAX_KEY_RING_BODY_BYTES = 64 * 1024;

/**
 * Runs an HTTP operation against the configured rings (all, or the one in the route) and maps every
 * failure to application/problem+json with a stable code. Unexpected errors are logged, not echoed.
 */
export async function withRings(
  request: HttpRequest,
  context: InvocationContext,
  operation: (rings: RingHandle[]) => Promise<HttpResponseInit>,
  openOptions?: OpenRingsOptions,
): Promise<HttpResponseInit> {
  try {
    const rings = selectRings(openRings(requireConfigFromEnvironment(), openOptions), request.params.ring);
    return await operation(rings);
  } catch (err) {
    if (err instanceof BadRequest) return problemResponse({ status: err.status, code: err.code, title: 'The request is not valid', detail: err.message });
    const classified = classifyError(err);
    // A failure on our side (a corrupt ring, a dependency down) is an error for alerts; a client's mistake is a warning.
    if (!classified.expected) context.error(`${context.functionName}: unexpected error`, err);
    else if (classified.status >= 500) context.error(`${context.functionName}: ${classified.code}: ${classified.message}`);
    else context.warn(`${context.functionName}: ${classified.code}: ${classified.message}`);
    return problemResponse({ status: classified.status, code: classified.code, title: titleFor(classified.status), detail: classified.message });
  }
}

/** withRings for a route with a `{ring}` segment: the operation gets that one ring. */
export function withRing(request: HttpRequest, context: InvocationContext, operation: (ring: RingHandle) => Promise<HttpResponseInit>, openOptions?: OpenRingsOptions): Promise<HttpResponseInit> {
  return withRings(
    request,
    context,
    async (rings) => {
      const [ring] = rings;
      // Only a registration without `{ring}` in its route gets here with another count: our bug, a 500.
      if (request.params.ring === undefined || !ring || rings.length !== 1) throw new Error(`${context.functionName}: the route has no {ring} segment`);
      return operation(ring);
    },
    openOptions,
  );
}

export function json(status: number, body: unknown): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'content-type': 'application/json; charset=utf-8' } };
}

/**
 * Parses a JSON object body; an empty body is `{}`. Only the listed properties are accepted; a
 * non-empty body must say it is JSON (415) and stay under MAX_KEY_RING_BODY_BYTES (413).
 */
export async function readJsonObject(request: HttpRequest, allowed: string[]): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_KEY_RING_BODY_BYTES) throw tooLarge(declared);
  const raw = Buffer.from(await request.arrayBuffer());
  if (raw.length > MAX_KEY_RING_BODY_BYTES) throw tooLarge(raw.length);
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  const type = request.headers.get('content-type') ?? '';
  if (!isJsonContentType(type)) {
    throw new BadRequest(`the body must be JSON (content-type: application/json), not ${type ? quoteUntrusted(type) : 'a body without a content type'}`, 415, 'unsupported_media_type');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequest('the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('the body must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw new BadRequest(`unknown property ${quoteUntrusted(key)} (expected: ${allowed.join(', ')})`);
  }
  return body as Record<string, unknown>;
}

export function optionalBoolean(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new BadRequest(`"${name}" must be true or false`);
  return value;
}

export function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequest(`"${name}" must be a string`);
  return value;
}

function tooLarge(bytes: number): BadRequest {
  return new BadRequest(`the body is ${bytes} bytes; key ring routes accept at most ${MAX_KEY_RING_BODY_BYTES}`, 413, 'payload_too_large');
}

function titleFor(status: number): string {
  switch (status) {
    case 404:
      return 'Not found';
    case 409:
      return 'Conflict';
    case 502:
      return 'A dependency failed';
    case 503:
      return 'A dependency is unavailable';
    default:
      return 'The operation failed';
  }
}

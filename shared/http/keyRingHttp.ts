import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { classifyError } from '../app/classifyError';
import { openRings, type OpenRingsOptions, type RingHandle } from '../app/openRings';
import { selectRings } from '../app/selectRings';
import { requireConfigFromEnvironment } from '../config/loadConfig';
import { problemResponse } from './problem';

/** A request body the API cannot accept: 400 with this message. */
export class BadRequest extends Error {}

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
    if (err instanceof BadRequest) return problemResponse({ status: 400, code: 'invalid_request', title: 'The request is not valid', detail: err.message });
    const classified = classifyError(err);
    if (classified.expected) context.warn(`${context.functionName}: ${classified.code}: ${classified.message}`);
    else context.error(`${context.functionName}: unexpected error`, err);
    return problemResponse({ status: classified.status, code: classified.code, title: titleFor(classified.status), detail: classified.message });
  }
}

export function json(status: number, body: unknown): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'content-type': 'application/json; charset=utf-8' } };
}

/** Parses a JSON object body; an empty body is `{}`. Only the listed properties are accepted. */
export async function readJsonObject(request: HttpRequest, allowed: string[]): Promise<Record<string, unknown>> {
  const text = (await request.text()).trim();
  if (text === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequest('the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('the body must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw new BadRequest(`unknown property "${key}" (expected: ${allowed.join(', ')})`);
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

import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { BadRequest, json, withRings } from '../shared/http/keyRingHttp';
import { readRingStatus } from '../shared/keyring/keyRingStatus';
import { parseInstant } from '../shared/app/parseInstant';
import { quoteUntrusted } from '../shared/app/quoteUntrusted';

/** GET /api/keyrings/{ring}[?at=ISO-TIME]: one ring's status, optionally as of another instant. */
export function getKeyring(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withRings(request, context, async ([ring]) => {
    const atText = request.query.get('at');
    const at = atText === null ? Date.now() : parseInstant(atText);
    if (at === undefined) throw new BadRequest(`"at" (${quoteUntrusted(atText!)}) is not an ISO 8601 time (or not a date that exists)`);
    return json(200, await readRingStatus(ring!, at));
  });
}

app.http('get-keyring', { methods: ['GET'], authLevel: 'function', route: 'keyrings/{ring}', handler: getKeyring });

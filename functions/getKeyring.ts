import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { BadRequest, json, withRings } from '../shared/http/keyRingHttp';
import { readRingStatus } from '../shared/keyring/keyRingStatus';

/** GET /api/keyrings/{ring}[?at=ISO-TIME]: one ring's status, optionally as of another instant. */
export function getKeyring(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withRings(request, context, async ([ring]) => {
    const atText = request.query.get('at');
    const at = atText === null ? Date.now() : Date.parse(atText);
    if (Number.isNaN(at)) throw new BadRequest(`"at" (${atText}) is not an ISO 8601 time`);
    return json(200, await readRingStatus(ring!, at));
  });
}

app.http('get-keyring', { methods: ['GET'], authLevel: 'function', route: 'keyrings/{ring}', handler: getKeyring });

import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { json, withRings } from '../shared/http/keyRingHttp';
import { readRingStatus } from '../shared/keyring/keyRingStatus';

/** GET /api/keyrings: the status of every ring (ids, dates, health; never key material). */
export function listKeyrings(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withRings(request, context, async (rings) => {
    const now = Date.now();
    return json(200, { rings: await Promise.all(rings.map((ring) => readRingStatus(ring, now))) });
  });
}

app.http('list-keyrings', { methods: ['GET'], authLevel: 'function', route: 'keyrings', handler: listKeyrings });

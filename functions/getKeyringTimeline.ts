import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { BadRequest, withRings } from '../shared/http/keyRingHttp';
import { readRingSnapshot } from '../shared/keyring/keyRingStatus';
import { renderTimeline } from '../shared/keyring/timeline/renderTimeline';

/** GET /api/keyrings/{ring}/timeline.svg[?at=ISO-TIME]: the ring as a picture (ids and dates only). */
export function getKeyringTimeline(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withRings(request, context, async ([ring]) => {
    const atText = request.query.get('at');
    const at = atText === null ? Date.now() : Date.parse(atText);
    if (Number.isNaN(at)) throw new BadRequest(`"at" (${atText}) is not an ISO 8601 time`);
    const { ring: keys } = await readRingSnapshot(ring!, at);
    return {
      status: 200,
      body: renderTimeline(keys, at, { ringName: ring!.name }),
      headers: { 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
    };
  });
}

app.http('get-keyring-timeline', { methods: ['GET'], authLevel: 'function', route: 'keyrings/{ring}/timeline.svg', handler: getKeyringTimeline });

import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { rotateRing } from '../shared/app/keyRingOperations';
import { recordRingOperation } from '../shared/app/telemetry/recordRingOperation';
import { createRequestCounters } from '../shared/app/telemetry/requestCounters';
import { BadRequest, json, optionalBoolean, readJsonObject, withRing } from '../shared/http/keyRingHttp';

/** POST /api/keyrings/{ring}/rotate {force?, immediate?}: manual rotation; without force, the timer's check. */
export function rotateKeyring(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const counters = createRequestCounters();
  return withRing(
    request,
    context,
    async (ring) => {
      const body = await readJsonObject(request, ['force', 'immediate', 'allowNewKek']);
      const force = optionalBoolean(body, 'force') ?? false;
      const immediate = optionalBoolean(body, 'immediate') ?? false;
      if (immediate && !force) throw new BadRequest('"immediate" goes with "force": true');
      const result = await recordRingOperation('rotation', 'http', ring.name, counters, context, () =>
        rotateRing(ring, { force, immediate }, { allowNewKek: optionalBoolean(body, 'allowNewKek') ?? false }),
      );
      context.log(`ring ${result.ring}: ${result.action}${result.newKeyId ? ` (new key ${result.newKeyId})` : ''} by HTTP request`);
      return json(200, result);
    },
    counters.openRingsOptions,
  );
}

app.http('rotate-keyring', { methods: ['POST'], authLevel: 'function', route: 'keyrings/{ring}/rotate', handler: rotateKeyring });

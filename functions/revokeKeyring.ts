import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { revokeInRing } from '../shared/app/keyRingOperations';
import { recordRingOperation } from '../shared/app/telemetry/recordRingOperation';
import { createRequestCounters } from '../shared/app/telemetry/requestCounters';
import { BadRequest, json, optionalBoolean, optionalString, readJsonObject, withRing } from '../shared/http/keyRingHttp';
import { normalizeGuid } from '../shared/keyring/guid';
import { quoteUntrusted } from '../shared/app/quoteUntrusted';
import { reasonProblem } from '../shared/keyring/policy/RotationPolicy';

/** POST /api/keyrings/{ring}/revoke {keyId} | {all: true}, reason?: revokes, then restores a usable key. */
export function revokeKeyring(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const counters = createRequestCounters();
  return withRing(
    request,
    context,
    async (ring) => {
      const body = await readJsonObject(request, ['keyId', 'all', 'reason', 'allowNewKek']);
      const keyId = optionalString(body, 'keyId');
      const all = optionalBoolean(body, 'all') ?? false;
      const reason = optionalString(body, 'reason');
      if ((keyId === undefined) === !all) throw new BadRequest('give exactly one of "keyId" or "all": true');
      const id = keyId === undefined ? undefined : normalizeGuid(keyId);
      if (keyId !== undefined && !id) throw new BadRequest(`"keyId" (${quoteUntrusted(keyId)}) is not a GUID`);
      const problem = reasonProblem(reason ?? '');
      if (problem) throw new BadRequest(`"reason" ${problem}`);
      const allowNewKek = optionalBoolean(body, 'allowNewKek') ?? false;
      const result = await recordRingOperation('revocation', 'http', ring.name, counters, context, () => revokeInRing(ring, id ? { keyId: id, reason } : { all: true, reason }, { allowNewKek }));
      context.log(`ring ${result.ring}: revoked ${result.revokedKeyIds.join(', ') || 'nothing (already revoked)'} by HTTP request`);
      return json(200, result);
    },
    counters.openRingsOptions,
  );
}

app.http('revoke-keyring', { methods: ['POST'], authLevel: 'function', route: 'keyrings/{ring}/revoke', handler: revokeKeyring });

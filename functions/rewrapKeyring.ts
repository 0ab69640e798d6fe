import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { json, optionalBoolean, readJsonObject, withRings } from '../shared/http/keyRingHttp';
import { rewrapKeyRing } from '../shared/keyring/rewrapKeyRing';

/** POST /api/keyrings/{ring}/rewrap {dryRun?}: every key's secret under the protector's current key-encryption key. */
export function rewrapKeyring(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withRings(request, context, async ([ring]) => {
    const body = await readJsonObject(request, ['dryRun']);
    const result = await rewrapKeyRing(ring!, { dryRun: optionalBoolean(body, 'dryRun') ?? false });
    context.log(`ring ${result.ring}: ${result.dryRun ? 'would re-wrap' : 're-wrapped'} ${result.rewrapped.length} key(s) under ${result.kek} by HTTP request`);
    return json(200, result);
  });
}

app.http('rewrap-keyring', { methods: ['POST'], authLevel: 'function', route: 'keyrings/{ring}/rewrap', handler: rewrapKeyring });

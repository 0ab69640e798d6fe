import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishCacheInstructions } from '../../../functions/publishCacheInstructions';
import { azurite } from '../../support/storage';

// #11 item 3: a JSON route answers a body that does not say it is JSON with 415, not by guessing.
describe('the cache publish route is a JSON route', () => {
  const saved = process.env.RINGKEEPER_CONFIG_JSON;
  beforeAll(() => {
    process.env.RINGKEEPER_CONFIG_JSON = JSON.stringify({ storage: { connectionString: azurite().connectionString }, rings: [], cache: { channels: [{ name: 'production' }] } });
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.RINGKEEPER_CONFIG_JSON;
    else process.env.RINGKEEPER_CONFIG_JSON = saved;
  });

  it.each([['text/plain'], ['application/x-www-form-urlencoded'], [undefined]])('answers content-type %s with 415', async (type) => {
    const response = await publishCacheInstructions(
      new HttpRequest({
        method: 'POST',
        url: 'http://localhost/api/cache/production/instructions',
        params: { channel: 'production' },
        body: { string: '{"refresher":"x","type":"RefreshAll"}' },
        headers: type ? { 'content-type': type } : {},
      }),
      new InvocationContext({ functionName: 'publish-cache-instructions', logHandler: () => {} }),
    );
    expect(response.status).toBe(415);
    expect(JSON.parse(String(response.body))).toMatchObject({ code: 'unsupported_media_type' });
  });
});

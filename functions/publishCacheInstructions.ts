import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { ConfigError } from '../shared/config/ConfigError';
import { cacheRuntimeFromEnvironment } from '../shared/cache/cacheRuntime';
import { CachePublishError } from '../shared/cache/CachePublishError';
import { problemResponse } from '../shared/http/problem';
import { isJsonContentType } from '../shared/http/isJsonContentType';
import { quoteUntrusted } from '../shared/app/quoteUntrusted';
import { describeStorageError } from '../shared/cache/storageErrors';

/**
 * POST /api/cache/{channel}/instructions — body: an envelope, `{instructions: [...]}`, an array of
 * instructions or one instruction. 201 `{sequence, id}`; 200 when the envelope id was published
 * before (same answer as then). Errors are problem+json with a stable code.
 */
export async function publishCacheInstructions(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const channel = request.params.channel ?? '';
  let runtime;
  try {
    runtime = cacheRuntimeFromEnvironment();
  } catch (err) {
    if (err instanceof ConfigError) {
      context.error(`cache publish: ${err.message}`);
      return problemResponse({ status: 500, code: 'config_invalid', title: 'The cache channel is not configured correctly', detail: err.message });
    }
    throw err;
  }
  const text = await request.text();
  if (!isJsonContentType(request.headers.get('content-type'))) {
    return problemResponse({ status: 415, code: 'unsupported_media_type', title: 'The request body must be JSON', detail: 'send content-type: application/json' });
  }
  let body: unknown;
  try {
    body = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return problemResponse({ status: 400, code: 'not_json', title: 'The request body is not JSON' });
  }
  try {
    const result = await runtime.publisher.publish(body, { channel, origin: request.headers.get('x-ringkeeper-origin') ?? undefined });
    return {
      status: result.duplicate ? 200 : 201,
      headers: { 'content-type': 'application/json' },
      jsonBody: { sequence: result.sequence, id: result.id },
    };
  } catch (err) {
    if (err instanceof CachePublishError) {
      return problemResponse({ status: err.status, code: err.code, title: titleOf(err.code), detail: err.message, errors: err.errors });
    }
    const detail = describeStorageError(err);
    context.error(`cache publish to ${quoteUntrusted(channel)} failed: ${detail}`);
    return problemResponse({ status: 503, code: 'publish_failed', title: 'The instruction could not be published; retry with the same id', detail });
  }
}

function titleOf(code: CachePublishError['code']): string {
  switch (code) {
    case 'unknown_channel':
      return 'No such cache channel';
    case 'envelope_too_large':
      return 'The envelope exceeds the maximum size';
    case 'unsupported_version':
      return 'Unsupported envelope version';
    case 'channel_mismatch':
      return 'The envelope names another channel';
    default:
      return 'The envelope is not valid';
  }
}

app.http('publish-cache-instructions', {
  route: 'cache/{channel}/instructions',
  methods: ['POST'],
  authLevel: 'function',
  handler: publishCacheInstructions,
});

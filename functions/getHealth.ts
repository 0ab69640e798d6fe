import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { classifyError } from '../shared/app/classifyError';
import { json } from '../shared/http/keyRingHttp';
import { problemResponse } from '../shared/http/problem';
import { readOperatorsViewFromEnvironment } from '../shared/http/readOperatorsViewFromEnvironment';

/**
 * GET /api/health: each ring's and channel's health with reasons; 200 unless something is critical,
 * then 503, so App Service health checks and availability tests can probe it. Anonymous because
 * the App Service health check cannot send a function key; it shows names, key ids, dates and
 * reasons only (no blob locations, no key material).
 */
export async function getHealth(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const { report } = await readOperatorsViewFromEnvironment();
    return { ...json(report.health === 'critical' ? 503 : 200, report), headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } };
  } catch (err) {
    const classified = classifyError(err);
    if (classified.expected) context.warn(`health: ${classified.code}: ${classified.message}`);
    else context.error('health: unexpected error', err);
    return problemResponse({ status: 503, code: classified.code, title: 'Health could not be determined', detail: classified.message });
  }
}

app.http('get-health', { methods: ['GET'], authLevel: 'anonymous', route: 'health', handler: getHealth });

import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { classifyError } from '../shared/app/classifyError';
import { renderStatusPage } from '../shared/app/statusPage/renderStatusPage';
import { problemResponse } from '../shared/http/problem';
import { readOperatorsViewFromEnvironment } from '../shared/http/readOperatorsViewFromEnvironment';

/** GET /api/status: the operators' page (HTML, no script): rings as pictures and tables, cache channels, problems. */
export async function getStatus(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const view = await readOperatorsViewFromEnvironment();
    return {
      status: 200,
      body: renderStatusPage(view),
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      },
    };
  } catch (err) {
    const classified = classifyError(err);
    if (classified.expected) context.warn(`status page: ${classified.code}: ${classified.message}`);
    else context.error('status page: unexpected error', err);
    return problemResponse({ status: classified.status, code: classified.code, title: 'The status page could not be built', detail: classified.message });
  }
}

app.http('get-status', { methods: ['GET'], authLevel: 'function', route: 'status', handler: getStatus });

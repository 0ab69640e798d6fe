import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { classifyError } from '../shared/app/classifyError';
import type { HealthReport } from '../shared/app/health/assessHealth';
import { CONFIG_FILE_SETTING, CONFIG_JSON_SETTING } from '../shared/config/loadConfig';
import { json } from '../shared/http/keyRingHttp';
import { problemResponse } from '../shared/http/problem';
import { readOperatorsViewFromEnvironment } from '../shared/http/readOperatorsViewFromEnvironment';

/** Probes share one answer for this long per instance: an anonymous endpoint must not turn traffic into storage reads. */
export const HEALTH_REUSE_MS = 10_000;
let latest: { key: string; at: number; report: Promise<HealthReport> } | undefined;

/**
 * GET /api/health: each ring's and channel's health with reasons; 200 unless something is critical,
 * then 503, so App Service health checks and availability tests can probe it. Anonymous because
 * the App Service health check cannot send a function key; it shows names, key ids, dates and
 * reasons only (no blob locations, no key material).
 */
export async function getHealth(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const key = `${process.env[CONFIG_JSON_SETTING] ?? ''}\u0000${process.env[CONFIG_FILE_SETTING] ?? ''}`;
  if (!latest || latest.key !== key || Date.now() - latest.at >= HEALTH_REUSE_MS) {
    latest = { key, at: Date.now(), report: readOperatorsViewFromEnvironment().then((view) => view.report) };
  }
  const current = latest;
  try {
    const report = await current.report;
    return { ...json(report.health === 'critical' ? 503 : 200, report), headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } };
  } catch (err) {
    if (latest === current) latest = undefined; // a failure is not reused
    const classified = classifyError(err);
    if (classified.expected) context.warn(`health: ${classified.code}: ${classified.message}`);
    else context.error('health: unexpected error', err);
    return problemResponse({ status: 503, code: classified.code, title: 'Health could not be determined', detail: classified.message });
  }
}

app.http('get-health', { methods: ['GET'], authLevel: 'anonymous', route: 'health', handler: getHealth });

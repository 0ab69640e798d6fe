import { app, type InvocationContext, type Timer } from '@azure/functions';
import { cacheRuntimeFromEnvironment } from '../shared/cache/cacheRuntime';
import { runCacheJanitor, type CacheJanitorReport } from '../shared/cache/runCacheJanitor';
import { emitTelemetry } from '../shared/app/telemetry/emitTelemetry';
import { janitorRecords } from '../shared/app/telemetry/operationRecords';

/** Default: every 5 minutes (stale front-ends after 10 minutes are swept within 15). */
export const CACHE_JANITOR_SCHEDULE = process.env.RINGKEEPER_CACHE_JANITOR_SCHEDULE?.trim() || '0 */5 * * * *';

/** Timer: sweep stale front-end queues, prune the journal, log per-channel figures; fails the run if a channel failed. */
export async function cacheJanitor(_timer: Timer | undefined, context: InvocationContext): Promise<CacheJanitorReport> {
  const { context: cache } = cacheRuntimeFromEnvironment();
  const started = performance.now();
  const report = await runCacheJanitor(cache, { log: context });
  for (const record of janitorRecords(report, Math.round(performance.now() - started))) emitTelemetry(context, record);
  for (const c of report.channels) {
    context.log(
      `cache janitor: ${c.channel}: head ${c.head}, oldest ${c.oldest ?? '-'}, pruned ${c.pruned}, front-ends live ${c.frontEnds.live}, stale deleted ${c.frontEnds.deleted.length}${c.error ? `, error ${c.error}` : ''}`,
    );
  }
  context.log(`cache janitor: rejected queue holds ~${report.rejected ?? '?'} messages; claims pruned ${report.claimsPruned}`);
  const failed = report.channels.filter((c) => c.error);
  if (failed.length > 0) throw new Error(`cache janitor failed for channel(s) ${failed.map((c) => c.channel).join(', ')}`);
  return report;
}

app.timer('cache-janitor', {
  schedule: CACHE_JANITOR_SCHEDULE,
  handler: async (timer, context) => {
    await cacheJanitor(timer, context);
  },
});

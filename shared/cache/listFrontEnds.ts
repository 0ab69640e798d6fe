import type { CacheContext } from './CacheContext';
import { fromQueueMetadata, isLive } from './frontEndMetadata';
import { frontEndQueuePrefix } from './frontEndQueueName';

export interface FrontEndQueue {
  queueName: string;
  channel: string;
  instance: string;
  heartbeat: Date | undefined;
  live: boolean;
}

/**
 * Front-end queues of one channel. The name prefix only narrows the listing ("prod-" also lists
 * "prod-eu-..."); the channel in the metadata decides, so channels never see each other's queues.
 */
export async function listFrontEnds(ctx: CacheContext, channel: string, now = new Date()): Promise<FrontEndQueue[]> {
  const result: FrontEndQueue[] = [];
  const prefix = frontEndQueuePrefix(ctx.config.frontEndQueuePrefix, channel);
  for await (const page of ctx.queueService.listQueues({ prefix, includeMetadata: true }).byPage({ maxPageSize: 5000 })) {
    for (const item of page.queueItems ?? []) {
      const meta = fromQueueMetadata(item.metadata);
      if (!meta || meta.channel !== channel) continue;
      result.push({ queueName: item.name, channel, instance: meta.instance, heartbeat: meta.heartbeat, live: isLive(meta, now, ctx.config.staleTimeoutMinutes) });
    }
  }
  return result;
}

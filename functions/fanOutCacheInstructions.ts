import { app, type InvocationContext } from '@azure/functions';
import { cacheRuntimeFromEnvironment, instructionsQueueForBinding } from '../shared/cache/cacheRuntime';
import type { FanOutOutcome } from '../shared/cache/CacheFanOut';

/**
 * Queue trigger on the instructions queue: journal (if needed) and copy each entry to every live
 * front-end queue of its channel. Never throws for messages that can never succeed (they go to
 * the rejected queue after this one attempt); throws for transient failures so the host retries.
 */
export async function fanOutCacheInstructions(message: unknown, context: InvocationContext): Promise<FanOutOutcome> {
  const { fanOut } = cacheRuntimeFromEnvironment();
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  const outcome = await fanOut.handle(message, { dequeueCount, log: context });
  if (outcome.outcome === 'delivered') context.debug(`cache: ${outcome.channel}#${outcome.first}..${outcome.last} -> ${outcome.frontEnds} front-ends (${outcome.form})`);
  return outcome;
}

app.storageQueue('fan-out-cache-instructions', {
  queueName: instructionsQueueForBinding(),
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    await fanOutCacheInstructions(message, context);
  },
});

import { InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { azurite, uniqueName } from '../../support/storage';
import { parseCacheConfig, type CacheConfig } from '../../../shared/cache/cacheConfig';
import { createCacheContext, type CacheContext } from '../../../shared/cache/CacheContext';
import { CachePublisher } from '../../../shared/cache/CachePublisher';
import { CacheFanOut } from '../../../shared/cache/CacheFanOut';
import { InstructionQueuePump } from '../../../shared/cache/InstructionQueuePump';
import { CacheSubscriber, type CacheSubscriberOptions } from '../../../shared/cache/CacheSubscriber';
import { MemorySequenceStore } from '../../../shared/cache/SequenceStore';
import { decodeQueueMessage } from '../../../shared/cache/queueMessageCodec';
import type { AppliedEnvelope } from '../../../shared/cache/CacheEnvelope';
import type { RejectedMessage } from '../../../shared/cache/recordRejection';

/** A cache channel on the shared Azurite with names no other test uses. */
export function cacheSetup(overrides: Record<string, unknown> = {}) {
  const suffix = randomUUID().slice(0, 8);
  const raw = {
    channels: [{ name: 'production' }, { name: 'staging' }],
    instructionsQueue: `ci-${suffix}`,
    journalContainer: `cj-${suffix}`,
    frontEndQueuePrefix: `fe${suffix.slice(0, 6)}`,
    storage: { connectionString: azurite().connectionString },
    ...overrides,
  };
  const config: CacheConfig = parseCacheConfig(raw, 'test.cache');
  const ctx: CacheContext = createCacheContext(config);
  return { raw, config, ctx, publisher: new CachePublisher(ctx) };
}

export function newContext(dequeueCount = 1): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName: 'fan-out-cache-instructions',
    triggerMetadata: { dequeueCount },
    logHandler: () => {},
  });
}

/** Drives a CacheFanOut from the instructions queue like the host (handler, not the dev host). */
export function fanOutPump(ctx: CacheContext, fanOut = new CacheFanOut(ctx, { frontEndCacheMs: 0 })) {
  return new InstructionQueuePump(ctx.queueService.getQueueClient(ctx.config.instructionsQueue), (input, meta) => fanOut.handle(input, { dequeueCount: meta.dequeueCount }), {
    poisonQueue: ctx.queueService.getQueueClient(`${ctx.config.instructionsQueue}-poison`),
    maxPollingIntervalInMs: 200,
  });
}

export interface RecordingFrontEnd {
  subscriber: CacheSubscriber;
  applied: AppliedEnvelope[];
  coldBoots: number;
  errors: Error[];
  store: MemorySequenceStore;
}

export function frontEnd(ctx: CacheContext, instance: string, options: Partial<CacheSubscriberOptions> & { store?: MemorySequenceStore } = {}): RecordingFrontEnd {
  const fe: RecordingFrontEnd = { applied: [], coldBoots: 0, errors: [], store: options.store ?? new MemorySequenceStore(), subscriber: undefined as unknown as CacheSubscriber };
  fe.subscriber = new CacheSubscriber({
    context: ctx,
    channel: 'production',
    instance,
    pollMinInMs: 20,
    pollMaxInMs: 200,
    gapWaitInMs: 300,
    probeIntervalInMs: 1000,
    apply: (e) => void fe.applied.push(e),
    onColdBoot: () => void fe.coldBoots++,
    onError: (err) => void fe.errors.push(err),
    ...options,
    store: fe.store,
  });
  return fe;
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function readRejected(ctx: CacheContext): Promise<RejectedMessage[]> {
  const q = ctx.queueService.getQueueClient(ctx.config.rejectedQueue);
  const out: RejectedMessage[] = [];
  for (;;) {
    const { receivedMessageItems } = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 }).catch(() => ({ receivedMessageItems: [] as never[] }));
    if (receivedMessageItems.length === 0) return out;
    for (const m of receivedMessageItems) out.push(JSON.parse(decodeQueueMessage(m.messageText)) as RejectedMessage);
  }
}

export function generic(n: number) {
  return [{ refresher: 'content', type: 'RefreshByIds' as const, ids: [n] }];
}

export { uniqueName };

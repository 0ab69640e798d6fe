import { randomUUID } from 'node:crypto';
import { isRestError, type DequeuedMessageItem, type QueueClient } from '@azure/storage-queue';
import type { QueueOptions } from './hostJson';
import { hostLine, type HostLog } from './invokeFunction';
import { decodeMessage } from './queueMessageEncoding';
import type { RegisteredFunction, RpcTypedData } from './types';

export interface QueueListenerOptions {
  fn: RegisteredFunction;
  queue: QueueClient;
  /** undefined when the queue is itself a poison queue (no poison handling then, as in the host). */
  poisonQueue: QueueClient | undefined;
  options: QueueOptions;
  invoke(fn: RegisteredFunction, message: RpcTypedData, metadata: Record<string, RpcTypedData>, reason: string): Promise<void>;
  log: HostLog;
}

export interface QueueListener {
  /** Poll now instead of waiting for the back-off (a message was just added by this host). */
  wake(): void;
  stop(): Promise<void>;
}

/** Messages are received invisible for this long and renewed at half of it while running. */
const PROCESSING_VISIBILITY_S = 600;
const MIN_POLL_MS = 100;

/**
 * One queue trigger, following the Storage extension's QueueListener/QueueProcessor: receive up to
 * batchSize messages, run them concurrently, fetch again when in-flight drops to newBatchThreshold;
 * empty polls back off exponentially (randomized) up to maxPollingInterval. Success deletes the
 * message; failure makes it visible again after visibilityTimeout, or, once dequeueCount reaches
 * maxDequeueCount, copies the original body to `<queue>-poison` and deletes it.
 */
export function startQueueListener(options: QueueListenerOptions): QueueListener {
  const { fn, queue, poisonQueue, log } = options;
  const settings = options.options;
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let delay = MIN_POLL_MS;
  let poisonReady: Promise<unknown> | undefined;
  let lastError = '';

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  const toPoison = async (message: DequeuedMessageItem, why: string) => {
    if (!poisonQueue) return;
    poisonReady ??= poisonQueue.createIfNotExists();
    await poisonReady;
    // The original body, as received: no re-encoding.
    await poisonQueue.sendMessage(message.messageText);
    await queue.deleteMessage(message.messageId, message.popReceipt);
    log(hostLine(`Message ${message.messageId} moved to poison queue '${poisonQueue.name}' (${why}).`));
  };

  const processMessage = async (message: DequeuedMessageItem): Promise<void> => {
    if (message.dequeueCount > settings.maxDequeueCount) {
      return toPoison(message, `dequeue count ${message.dequeueCount} exceeds ${settings.maxDequeueCount}`);
    }
    const body = decodeMessage(message.messageText, settings.messageEncoding);
    if (!body) return toPoison(message, 'the body is not valid base64 (host.json messageEncoding is base64)');

    // Keep the message invisible while the function runs; each update returns a new pop receipt.
    let popReceipt = message.popReceipt;
    const renew = setInterval(
      () => {
        queue
          .updateMessage(message.messageId, popReceipt, undefined, PROCESSING_VISIBILITY_S)
          .then((r) => (popReceipt = r.popReceipt ?? popReceipt))
          .catch(() => {});
      },
      (PROCESSING_VISIBILITY_S * 1000) / 2,
    );

    let succeeded = false;
    try {
      await options.invoke(fn, { string: body.toString('utf8') }, triggerMetadata(fn, message, body.toString('utf8')), `New queue message detected on '${queue.name}'.`);
      succeeded = true;
    } catch {
      // Logged by the invoker.
    } finally {
      clearInterval(renew);
    }
    const current = { ...message, popReceipt };
    if (succeeded) await queue.deleteMessage(message.messageId, popReceipt);
    else if (!poisonQueue)
      return; // No poison queue: left invisible so it does not spin (host behaviour).
    else if (message.dequeueCount >= settings.maxDequeueCount) await toPoison(current, `failed ${message.dequeueCount} times`);
    else await queue.updateMessage(message.messageId, popReceipt, undefined, Math.round(settings.visibilityTimeoutMs / 1000));
  };

  const loop = async () => {
    while (!stopped) {
      if (inFlight.size > settings.newBatchThreshold) {
        await Promise.race(inFlight);
        continue;
      }
      let batch: DequeuedMessageItem[] = [];
      try {
        const received = await queue.receiveMessages({ numberOfMessages: settings.batchSize, visibilityTimeout: PROCESSING_VISIBILITY_S });
        batch = received.receivedMessageItems;
        lastError = '';
      } catch (err) {
        const text = (err as Error).message;
        if (isRestError(err) && err.statusCode === 404) await queue.createIfNotExists().catch(() => {});
        else if (text !== lastError) log(hostLine(`Function '${fn.name}': polling '${queue.name}' failed: ${text}`));
        lastError = text;
      }
      if (stopped) break;
      if (batch.length) {
        delay = MIN_POLL_MS;
        for (const message of batch) {
          const task: Promise<void> = processMessage(message)
            .catch((err) => log(hostLine(`Function '${fn.name}': completing message ${message.messageId} failed: ${(err as Error).message}`)))
            .finally(() => inFlight.delete(task));
          inFlight.add(task);
        }
        continue;
      }
      await sleep(delay);
      // Randomized exponential back-off, as the host's RandomizedExponentialBackoffStrategy.
      delay = Math.min(settings.maxPollingIntervalMs, Math.max(MIN_POLL_MS, delay * (1.6 + Math.random() * 0.8)));
    }
  };

  const running = queue
    .createIfNotExists()
    .catch((err) => log(hostLine(`Function '${fn.name}': cannot create queue '${queue.name}': ${(err as Error).message}`)))
    .then(loop);

  return {
    wake() {
      delay = MIN_POLL_MS;
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await running;
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** The RPC trigger metadata the host sends for a queue message (the library camel-cases it). */
export function triggerMetadata(fn: RegisteredFunction, message: DequeuedMessageItem, text: string): Record<string, RpcTypedData> {
  const metadata: Record<string, RpcTypedData> = {};
  // Properties of a JSON object body are binding data too.
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      for (const [key, value] of Object.entries(parsed)) metadata[key] = typeof value === 'string' ? { string: value } : { json: JSON.stringify(value) };
    }
  } catch {
    // Not JSON: no extra binding data.
  }
  Object.assign(metadata, {
    QueueTrigger: { string: text },
    DequeueCount: { json: String(message.dequeueCount) },
    ExpirationTime: { json: JSON.stringify(dateTimeOffset(message.expiresOn)) },
    Id: { string: message.messageId },
    InsertionTime: { json: JSON.stringify(dateTimeOffset(message.insertedOn)) },
    NextVisibleTime: { json: JSON.stringify(dateTimeOffset(message.nextVisibleOn)) },
    PopReceipt: { string: message.popReceipt },
    sys: { json: JSON.stringify({ MethodName: fn.name, UtcNow: new Date().toISOString(), RandGuid: randomUUID() }) },
  });
  return metadata;
}

/** DateTimeOffset as the host serializes it: `2022-08-25T05:06:39+00:00`. */
function dateTimeOffset(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

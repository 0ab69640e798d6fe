import type { QueueClient } from '@azure/storage-queue';
import { decodeQueueMessage, triggerInputOf } from './queueMessageCodec';

export interface PumpOptions {
  /** host.json extensions.queues defaults of this app. */
  batchSize?: number;
  maxDequeueCount?: number;
  visibilityTimeoutSeconds?: number;
  maxPollingIntervalMs?: number;
  /** Where messages go after maxDequeueCount failures (the host uses `{queue}-poison`). */
  poisonQueue?: QueueClient;
  onError?(error: unknown): void;
}

export type TriggerHandler = (input: unknown, meta: { dequeueCount: number; id: string }) => Promise<unknown>;

/**
 * Runs a queue-triggered handler the way the Functions host does (batches in parallel, base64
 * decoding, JSON parsed for the handler, delete on success, redelivery after the visibility
 * timeout on failure, poison queue after maxDequeueCount). For tests, the bench and hosts without
 * the Functions runtime; the real host replaces it in Azure.
 */
export class InstructionQueuePump {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly o: Required<Omit<PumpOptions, 'poisonQueue' | 'onError'>> & PumpOptions;

  constructor(
    private readonly queue: QueueClient,
    private readonly handler: TriggerHandler,
    options: PumpOptions = {},
  ) {
    this.o = { batchSize: 32, maxDequeueCount: 5, visibilityTimeoutSeconds: 5, maxPollingIntervalMs: 2000, ...options };
  }

  /** Receives one batch, runs it, returns how many messages it held. */
  async runOnce(): Promise<number> {
    const { receivedMessageItems: items } = await this.queue.receiveMessages({ numberOfMessages: this.o.batchSize, visibilityTimeout: this.o.visibilityTimeoutSeconds });
    await Promise.all(items.map(async (item) => {
      const input = triggerInputOf(decodeQueueMessage(item.messageText));
      try {
        await this.handler(input, { dequeueCount: item.dequeueCount, id: item.messageId });
      } catch (err) {
        this.o.onError?.(err);
        if (item.dequeueCount < this.o.maxDequeueCount) return; // visible again after the timeout
        await this.o.poisonQueue?.createIfNotExists();
        await this.o.poisonQueue?.sendMessage(item.messageText);
      }
      await this.queue.deleteMessage(item.messageId, item.popReceipt).catch(() => undefined);
    }));
    return items.length;
  }

  /** Runs batches until the queue stays empty for `quietMs` (tests). */
  async drain(quietMs = 0): Promise<void> {
    for (;;) {
      if ((await this.runOnce()) > 0) continue;
      if (quietMs <= 0) return;
      await new Promise((r) => setTimeout(r, quietMs));
      if ((await this.runOnce()) === 0) return;
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      let delay = 0;
      while (this.running) {
        let n = 0;
        try {
          n = await this.runOnce();
        } catch (err) {
          this.o.onError?.(err);
        }
        delay = n > 0 ? 0 : Math.min(Math.max(delay * 2, 50), this.o.maxPollingIntervalMs);
        if (delay > 0 && this.running) await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }
}

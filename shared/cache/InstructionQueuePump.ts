import type { QueueClient } from '@azure/storage-queue';
import { AbortError } from '../async/AbortError';
import { delay } from '../async/delay';
import { decodeQueueMessage, triggerInputOf } from './queueMessageCodec';

export interface PumpOptions {
  /** host.json extensions.queues defaults of this app. */
  batchSize?: number;
  maxDequeueCount?: number;
  visibilityTimeoutInSeconds?: number;
  maxPollingIntervalInMs?: number;
  /** Where messages go after maxDequeueCount failures (the host uses `{queue}-poison`). */
  poisonQueue?: QueueClient;
  onError?(error: unknown): void;
  /** Stops the loop (as stop() does) and drain()'s waits: a host shutdown. Batches under way complete. */
  abortSignal?: AbortSignal;
}

export type TriggerHandler = (input: unknown, meta: { dequeueCount: number; id: string }) => Promise<unknown>;

/**
 * Runs a queue-triggered handler the way the Functions host does (batches in parallel, base64
 * decoding, JSON parsed for the handler, delete on success, redelivery after the visibility
 * timeout on failure, poison queue after maxDequeueCount). For tests, the bench and hosts without
 * the Functions runtime; the real host replaces it in Azure.
 */
export class InstructionQueuePump {
  private loop?: Promise<void>;
  private stopping?: AbortController;
  private readonly o: Required<Omit<PumpOptions, 'poisonQueue' | 'onError' | 'abortSignal'>> & PumpOptions;

  constructor(
    private readonly queue: QueueClient,
    private readonly handler: TriggerHandler,
    options: PumpOptions = {},
  ) {
    this.o = { batchSize: 32, maxDequeueCount: 5, visibilityTimeoutInSeconds: 5, maxPollingIntervalInMs: 2000, ...options };
  }

  /** Receives one batch, runs it, returns how many messages it held. */
  async runOnce(): Promise<number> {
    const { receivedMessageItems: items } = await this.queue.receiveMessages({ numberOfMessages: this.o.batchSize, visibilityTimeout: this.o.visibilityTimeoutInSeconds });
    await Promise.all(
      items.map(async (item) => {
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
      }),
    );
    return items.length;
  }

  /** Runs batches until the queue stays empty for `quietInMs` (tests); rejects with an AbortError when the options' signal aborts. */
  async drain(quietInMs = 0): Promise<void> {
    const { abortSignal } = this.o;
    for (;;) {
      AbortError.throwIfAborted(abortSignal);
      if ((await this.runOnce()) > 0) continue;
      if (quietInMs <= 0) return;
      await delay(quietInMs, { abortSignal });
      if ((await this.runOnce()) === 0) return;
    }
  }

  /** Polls until stop() or the options' signal aborts, backing off to maxPollingIntervalInMs while idle. */
  start(): void {
    if (this.loop) return;
    const stopping = new AbortController();
    this.stopping = stopping;
    const signal = this.o.abortSignal ? AbortSignal.any([this.o.abortSignal, stopping.signal]) : stopping.signal;
    this.loop = this.run(signal);
  }

  async stop(): Promise<void> {
    this.stopping?.abort();
    await this.loop;
    this.loop = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let wait = 0;
    while (!signal.aborted) {
      let n = 0;
      try {
        n = await this.runOnce();
      } catch (err) {
        this.o.onError?.(err);
      }
      wait = n > 0 ? 0 : Math.min(Math.max(wait * 2, 50), this.o.maxPollingIntervalInMs);
      if (wait > 0) await delay(wait, { abortSignal: signal }).catch(() => undefined); // aborted: the loop condition ends it
    }
  }
}

import type { CacheContext } from './CacheContext';
import type { RejectionCode } from './classifyInstructionMessage';
import { utf8Length } from './CacheEnvelope';
import { encodeQueueMessage } from './queueMessageCodec';

/** What the rejected queue holds: why, when, from where, and the original (cut to fit a queue message). */
export interface RejectedMessage {
  code: RejectionCode | 'channel_mismatch';
  reason: string;
  receivedAt: string;
  source: 'instructions-queue' | 'publish';
  dequeueCount?: number;
  original: string;
  originalBytes: number;
  originalTruncated: boolean;
}

/** Originals are cut so the rejected message stays far below the 64 KiB queue limit after base64. */
export const REJECTED_ORIGINAL_MAX_CHARS = 16 * 1024;

export async function recordRejection(
  ctx: CacheContext,
  rejection: { code: RejectedMessage['code']; reason: string; source: RejectedMessage['source']; original: string; dequeueCount?: number },
  now = new Date(),
): Promise<RejectedMessage> {
  const truncated = rejection.original.length > REJECTED_ORIGINAL_MAX_CHARS;
  const message: RejectedMessage = {
    code: rejection.code,
    reason: rejection.reason,
    receivedAt: now.toISOString(),
    source: rejection.source,
    ...(rejection.dequeueCount === undefined ? {} : { dequeueCount: rejection.dequeueCount }),
    original: truncated ? rejection.original.slice(0, REJECTED_ORIGINAL_MAX_CHARS) : rejection.original,
    originalBytes: utf8Length(rejection.original),
    originalTruncated: truncated,
  };
  await ctx.ensureQueue(ctx.config.rejectedQueue);
  await ctx.queueService.getQueueClient(ctx.config.rejectedQueue).sendMessage(encodeQueueMessage(message));
  return message;
}

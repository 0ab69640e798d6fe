import { createHash } from 'node:crypto';

export const QUEUE_NAME_MAX = 63;
export const QUEUE_NAME_PATTERN = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/** Prefix under which every front-end queue of a channel is listed. */
export function frontEndQueuePrefix(prefix: string, channel: string): string {
  return `${prefix}-${channel}-`;
}

/**
 * `{prefix}-{channel}-{readable instance}-{hash}` within Azure's queue-name rules (3-63 chars,
 * lowercase, digits, single inner hyphens). The hash of the exact instance id keeps two instances
 * whose readable parts collide apart; the readable part is only for operators.
 */
export function frontEndQueueName(prefix: string, channel: string, instance: string): string {
  const head = frontEndQueuePrefix(prefix, channel);
  const hash = createHash('sha256').update(instance, 'utf8').digest('hex').slice(0, 10);
  const room = QUEUE_NAME_MAX - head.length - hash.length - 1;
  const readable = instance
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, Math.max(0, room))
    .replace(/^-+|-+$/g, '');
  const name = readable ? `${head}${readable}-${hash}` : `${head}${hash}`;
  if (!QUEUE_NAME_PATTERN.test(name)) throw new Error(`internal: front-end queue name "${name}" breaks the queue naming rules`);
  return name;
}

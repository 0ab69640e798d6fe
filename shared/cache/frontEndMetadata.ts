/**
 * A front-end queue's metadata: which channel and instance it belongs to and when the subscriber
 * last said it is alive. Values are URI-encoded (metadata values must be ASCII).
 */
export interface FrontEndMetadata {
  channel: string;
  instance: string;
  heartbeat: Date | undefined;
}

export function toQueueMetadata(channel: string, instance: string, heartbeat: Date): Record<string, string> {
  return { channel, instance: encodeURIComponent(instance), heartbeat: heartbeat.toISOString() };
}

export function fromQueueMetadata(metadata: Record<string, string> | undefined): FrontEndMetadata | undefined {
  if (!metadata) return undefined;
  const lower = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k.toLowerCase(), v]));
  if (!lower.channel) return undefined;
  let instance = lower.instance ?? '';
  try {
    instance = decodeURIComponent(instance);
  } catch {
    // keep as is
  }
  const t = lower.heartbeat ? Date.parse(lower.heartbeat) : NaN;
  return { channel: lower.channel, instance, heartbeat: Number.isNaN(t) ? undefined : new Date(t) };
}

/** Live = a heartbeat newer than the stale timeout. A missing or unreadable heartbeat is stale. */
export function isLive(meta: FrontEndMetadata, now: Date, staleTimeoutMinutes: number): boolean {
  return meta.heartbeat !== undefined && now.getTime() - meta.heartbeat.getTime() <= staleTimeoutMinutes * 60_000;
}

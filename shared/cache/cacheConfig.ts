import { ConfigError } from '../config/ConfigError';
import type { StorageReference } from '../config/types';
import { MAX_ENVELOPE_BYTES } from './CacheEnvelope';
import { QUEUE_NAME_PATTERN } from './frontEndQueueName';
import { CHANNEL_MAX_LENGTH, CHANNEL_PATTERN } from './validateEnvelope';

export interface CacheChannelConfig {
  name: string;
}

/** The validated `cache` section of the configuration document, defaults filled in. */
export interface CacheConfig {
  /** Account of the journal and all queues; must be the account the Functions' AzureWebJobsStorage names. */
  storage: StorageReference;
  channels: CacheChannelConfig[];
  /** Publisher -> fan-out queue (the queue trigger's queue). */
  instructionsQueue: string;
  /** Where messages that can never succeed go: `{instructionsQueue}-rejected`. */
  rejectedQueue: string;
  /** Blob container of the per-channel journals and claim checks. */
  journalContainer: string;
  /** Front-end queues are `{frontEndQueuePrefix}-{channel}-{instance}-{hash}`. */
  frontEndQueuePrefix: string;
  /** A front-end whose heartbeat is older than this gets no deliveries and its queue is deleted (Umbraco-style stale server). */
  staleTimeoutMinutes: number;
  /** How often subscribers refresh their heartbeat. */
  heartbeatSeconds: number;
  /** Journal batches older than this are pruned (the newest is always kept). */
  retentionHours: number;
  /** How long after its commit an envelope id is recognised by every publisher (at most half the retention). */
  idempotencyMinutes: number;
  /** Journal entries a front-end may be behind before it cold-boots instead (Umbraco's MaxProcessingInstructionCount). */
  coldBootThreshold: number;
  /** Largest accepted envelope in UTF-8 bytes of JSON. */
  maxEnvelopeBytes: number;
  /**
   * Whether the fan-out journals envelopes (and claim checks) enqueued directly on the instructions
   * queue. The fan-out journals them for the channel the envelope names, so anyone who may send to the
   * shared queue could publish to every channel; false rejects them (`direct_envelope_refused`) and
   * leaves only notices, which can only announce batches already in the journal.
   */
  acceptDirectEnvelopes: boolean;
}

export const CACHE_DEFAULTS = {
  instructionsQueue: 'cache-instructions',
  journalContainer: 'cache-journal',
  frontEndQueuePrefix: 'rkfe',
  staleTimeoutMinutes: 10,
  heartbeatSeconds: 60,
  retentionHours: 48,
  idempotencyMinutes: 10,
  coldBootThreshold: 1000,
  maxEnvelopeBytes: MAX_ENVELOPE_BYTES,
  acceptDirectEnvelopes: true,
} as const;

const KEYS = [
  'storage',
  'channels',
  'instructionsQueue',
  'journalContainer',
  'frontEndQueuePrefix',
  'staleTimeoutMinutes',
  'heartbeatSeconds',
  'retentionHours',
  'idempotencyMinutes',
  'coldBootThreshold',
  'maxEnvelopeBytes',
  'acceptDirectEnvelopes',
];
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
const PREFIX = /^(?=.{1,10}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * Validates the `cache` section. `where` is its JSON path (e.g. "config.json.cache"); every error
 * names the offending setting. Storage falls back to `defaultStorage` (the document's top-level
 * storage), then to the app setting AzureWebJobsStorage.
 */
export function parseCacheConfig(raw: unknown, where: string, defaultStorage?: StorageReference): CacheConfig {
  if (raw === undefined) throw new ConfigError(where, 'the cache channel is not configured (add {"channels": [{"name": "production"}]})');
  const c = object(raw, where);
  for (const k of Object.keys(c)) if (!KEYS.includes(k)) throw new ConfigError(`${where}.${k}`, `unknown setting (expected one of: ${KEYS.join(', ')})`);

  if (!Array.isArray(c.channels) || c.channels.length === 0) throw new ConfigError(`${where}.channels`, 'must be a non-empty array of {"name": ...}');
  const seen = new Set<string>();
  const channels = c.channels.map((ch, i) => {
    const at = `${where}.channels[${i}]`;
    const o = object(ch, at);
    for (const k of Object.keys(o)) if (k !== 'name') throw new ConfigError(`${at}.${k}`, 'unknown setting (expected: name)');
    const name = string(o.name, `${at}.name`);
    if (name.length > CHANNEL_MAX_LENGTH || !CHANNEL_PATTERN.test(name)) {
      throw new ConfigError(`${at}.name`, `"${name}" is not a valid channel name (1-${CHANNEL_MAX_LENGTH} lowercase letters, digits and single inner hyphens)`);
    }
    if (seen.has(name)) throw new ConfigError(`${at}.name`, `duplicate channel "${name}"`);
    seen.add(name);
    return { name };
  });

  const instructionsQueue = c.instructionsQueue === undefined ? CACHE_DEFAULTS.instructionsQueue : string(c.instructionsQueue, `${where}.instructionsQueue`);
  // Room for the "-rejected" and the host's "-poison" suffixes.
  if (!QUEUE_NAME_PATTERN.test(instructionsQueue) || instructionsQueue.length > 54) {
    throw new ConfigError(`${where}.instructionsQueue`, `"${instructionsQueue}" is not a valid queue name (3-54 lowercase letters, digits and single inner hyphens)`);
  }
  const journalContainer = c.journalContainer === undefined ? CACHE_DEFAULTS.journalContainer : string(c.journalContainer, `${where}.journalContainer`);
  if (!CONTAINER_NAME.test(journalContainer)) throw new ConfigError(`${where}.journalContainer`, `"${journalContainer}" is not a valid container name`);
  const frontEndQueuePrefix = c.frontEndQueuePrefix === undefined ? CACHE_DEFAULTS.frontEndQueuePrefix : string(c.frontEndQueuePrefix, `${where}.frontEndQueuePrefix`);
  if (!PREFIX.test(frontEndQueuePrefix)) throw new ConfigError(`${where}.frontEndQueuePrefix`, `"${frontEndQueuePrefix}" must be 1-10 lowercase letters, digits and single inner hyphens`);
  if (instructionsQueue.startsWith(`${frontEndQueuePrefix}-`)) throw new ConfigError(`${where}.instructionsQueue`, `must not start with the front-end queue prefix "${frontEndQueuePrefix}-"`);

  const staleTimeoutMinutes = num(c.staleTimeoutMinutes, `${where}.staleTimeoutMinutes`, CACHE_DEFAULTS.staleTimeoutMinutes, 1);
  const heartbeatSeconds = num(c.heartbeatSeconds, `${where}.heartbeatSeconds`, CACHE_DEFAULTS.heartbeatSeconds, 1);
  if (heartbeatSeconds * 2 > staleTimeoutMinutes * 60) throw new ConfigError(`${where}.heartbeatSeconds`, 'must be at most half of staleTimeoutMinutes, or live front-ends look stale');
  const retentionHours = num(c.retentionHours, `${where}.retentionHours`, CACHE_DEFAULTS.retentionHours, 1);
  const idempotencyMinutes = num(c.idempotencyMinutes, `${where}.idempotencyMinutes`, CACHE_DEFAULTS.idempotencyMinutes, 1);
  // A publisher trusts a chain end it saw within the window: it must still exist (not be pruned).
  if (idempotencyMinutes > retentionHours * 30) throw new ConfigError(`${where}.idempotencyMinutes`, `must be at most half of retentionHours (${retentionHours * 30})`);
  const coldBootThreshold = num(c.coldBootThreshold, `${where}.coldBootThreshold`, CACHE_DEFAULTS.coldBootThreshold, 1, true);
  const maxEnvelopeBytes = num(c.maxEnvelopeBytes, `${where}.maxEnvelopeBytes`, CACHE_DEFAULTS.maxEnvelopeBytes, 1024, true);
  if (maxEnvelopeBytes > 4 * 1024 * 1024) throw new ConfigError(`${where}.maxEnvelopeBytes`, 'must be at most 4194304 (4 MiB)');

  if (c.acceptDirectEnvelopes !== undefined && typeof c.acceptDirectEnvelopes !== 'boolean') throw new ConfigError(`${where}.acceptDirectEnvelopes`, 'must be true or false');
  const acceptDirectEnvelopes = c.acceptDirectEnvelopes ?? CACHE_DEFAULTS.acceptDirectEnvelopes;

  const storage = c.storage === undefined ? (defaultStorage ?? { connection: 'AzureWebJobsStorage' }) : storageReference(c.storage, `${where}.storage`);
  return {
    storage,
    channels,
    instructionsQueue,
    rejectedQueue: `${instructionsQueue}-rejected`,
    journalContainer,
    frontEndQueuePrefix,
    staleTimeoutMinutes,
    heartbeatSeconds,
    retentionHours,
    idempotencyMinutes,
    coldBootThreshold,
    maxEnvelopeBytes,
    acceptDirectEnvelopes,
  };
}

export function channelNames(config: CacheConfig): Set<string> {
  return new Set(config.channels.map((c) => c.name));
}

function storageReference(raw: unknown, where: string): StorageReference {
  const s = object(raw, where);
  const only = (keys: string[]) => {
    for (const k of Object.keys(s)) if (!keys.includes(k)) throw new ConfigError(`${where}.${k}`, `unknown setting (expected one of: ${keys.join(', ')})`);
  };
  if (s.connectionString !== undefined) {
    only(['connectionString']);
    return { connectionString: string(s.connectionString, `${where}.connectionString`) };
  }
  if (s.connection !== undefined) {
    only(['connection']);
    return { connection: string(s.connection, `${where}.connection`) };
  }
  only(['blobServiceUri', 'queueServiceUri']);
  if (s.blobServiceUri === undefined || s.queueServiceUri === undefined) {
    throw new ConfigError(where, 'needs connectionString, connection (an app setting name), or both blobServiceUri and queueServiceUri (the cache uses blobs and queues)');
  }
  return { blobServiceUri: string(s.blobServiceUri, `${where}.blobServiceUri`), queueServiceUri: string(s.queueServiceUri, `${where}.queueServiceUri`) };
}

function object(raw: unknown, where: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(where, 'must be an object');
  return raw as Record<string, unknown>;
}

function string(raw: unknown, where: string): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ConfigError(where, 'must be a non-empty string');
  return raw;
}

function num(raw: unknown, where: string, fallback: number, min: number, integer = false): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isFinite(raw)) throw new ConfigError(where, 'must be a number');
  if (integer && !Number.isInteger(raw)) throw new ConfigError(where, 'must be an integer');
  if (raw < min) throw new ConfigError(where, `must be at least ${min}`);
  return raw;
}

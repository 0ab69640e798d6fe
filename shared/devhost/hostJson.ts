import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTimeSpan } from './parseTimeSpan';
import { settingText } from './settingText';

/** host.json `extensions.queues`, resolved with the Storage extension's defaults. */
export interface QueueOptions {
  batchSize: number;
  newBatchThreshold: number;
  maxPollingIntervalMs: number;
  visibilityTimeoutMs: number;
  maxDequeueCount: number;
  messageEncoding: 'base64' | 'none';
}

export interface HostOptions {
  /** Without slashes; '' when host.json sets it empty. */
  routePrefix: string;
  queues: QueueOptions;
  /** host.json `functions`: when present, only these run. */
  functions?: string[];
}

/** Reads host.json from the app root (absent = defaults; the real host requires the file). */
export function readHostOptions(appRoot: string): HostOptions {
  const file = path.join(appRoot, 'host.json');
  let doc: unknown = {};
  try {
    doc = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`host.json: ${(err as Error).message}`);
  }
  return hostOptionsFrom(doc);
}

export function hostOptionsFrom(doc: unknown): HostOptions {
  const extensions = get(doc, 'extensions');
  const http = get(extensions, 'http');
  const queues = get(extensions, 'queues');
  const prefix = get(http, 'routePrefix');
  const functions = get(doc, 'functions');
  return {
    routePrefix: typeof prefix === 'string' ? prefix.replace(/^\/+|\/+$/g, '') : 'api',
    queues: queueOptionsFrom(queues),
    functions: Array.isArray(functions) ? functions.map(String) : undefined,
  };
}

function queueOptionsFrom(queues: unknown): QueueOptions {
  const batchSize = integer(get(queues, 'batchSize'), 'extensions.queues.batchSize', 16);
  if (batchSize < 1 || batchSize > 32) throw new Error('host.json: extensions.queues.batchSize must be 1-32');
  // Default from QueuesOptions: (batchSize / 2) * processor count.
  const threshold = get(queues, 'newBatchThreshold');
  const newBatchThreshold = threshold === undefined ? Math.floor(batchSize / 2) * os.cpus().length : integer(threshold, 'extensions.queues.newBatchThreshold', 0);
  const maxPollingIntervalMs = timeSpan(get(queues, 'maxPollingInterval'), 'extensions.queues.maxPollingInterval', 60_000);
  if (maxPollingIntervalMs < 100) throw new Error('host.json: extensions.queues.maxPollingInterval must be at least 00:00:00.100');
  const encoding = settingText(get(queues, 'messageEncoding') ?? 'base64').toLowerCase();
  if (encoding !== 'base64' && encoding !== 'none') throw new Error('host.json: extensions.queues.messageEncoding must be "base64" or "none"');
  return {
    batchSize,
    newBatchThreshold,
    maxPollingIntervalMs,
    visibilityTimeoutMs: timeSpan(get(queues, 'visibilityTimeout'), 'extensions.queues.visibilityTimeout', 0),
    maxDequeueCount: integer(get(queues, 'maxDequeueCount'), 'extensions.queues.maxDequeueCount', 5),
    messageEncoding: encoding,
  };
}

/** Case-insensitive property read, as the host's configuration binder does. */
function get(obj: unknown, key: string): unknown {
  if (!obj || typeof obj !== 'object') return undefined;
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function integer(value: unknown, where: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`host.json: ${where} must be a non-negative integer`);
  return n;
}

function timeSpan(value: unknown, where: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  return parseTimeSpan(value as string, `host.json: ${where}`);
}

import { encodeMessage, type MessageEncoding } from './queueMessageEncoding';
import { assertQueueName, queueFor } from './storageQueues';
import type { RegisteredFunction, RpcInvocationResponse, RpcTypedData } from './types';
import { settingText } from './settingText';

export interface QueueOutputContext {
  env: NodeJS.ProcessEnv;
  encoding: MessageEncoding;
  resolve(value: string, where: string): string;
  /** Tells this host's listeners on that queue to poll now (the host's shared queue watcher). */
  notify(queueName: string): void;
}

/** The queue output bindings of a function, checked at startup so a bad name fails early. */
export function queueOutputBindings(fn: RegisteredFunction, ctx: QueueOutputContext): { name: string; queueName: string; connection?: string }[] {
  return Object.entries(fn.metadata.bindings)
    .filter(([, b]) => b.direction === 'out' && b.type.toLowerCase() === 'queue')
    .map(([name, b]) => {
      const where = `function "${fn.name}" output "${name}"`;
      const queueName = ctx.resolve(settingText(b.queueName), where).toLowerCase();
      if (/[{}]/.test(queueName)) throw new Error(`${where}: binding expressions in queueName ("${queueName}") are not supported by the dev host`);
      assertQueueName(queueName, where);
      return { name, queueName, connection: ctx.resolve(settingText(b.connection), where) || undefined };
    });
}

/**
 * Writes what the function set on its queue outputs, after it succeeded and before the trigger
 * message is deleted, as the host does. An array becomes one message per element.
 */
export async function writeQueueOutputs(fn: RegisteredFunction, response: RpcInvocationResponse, ctx: QueueOutputContext): Promise<void> {
  for (const binding of queueOutputBindings(fn, ctx)) {
    const data = binding.name === '$return' ? response.returnValue : response.outputData?.find((o) => o.name === binding.name)?.data;
    const messages = messagesFrom(data);
    if (messages.length === 0) continue;
    const { client } = queueFor(binding.connection, binding.queueName, ctx.env);
    await client.createIfNotExists();
    for (const message of messages) await client.sendMessage(encodeMessage(message, ctx.encoding));
    ctx.notify(binding.queueName);
  }
}

export function messagesFrom(data: RpcTypedData | null | undefined): (string | Uint8Array)[] {
  if (!data) return [];
  if (data.string !== undefined) return [data.string];
  if (data.bytes) return [data.bytes];
  if (data.int !== undefined) return [String(data.int)];
  if (data.double !== undefined) return [String(data.double)];
  if (data.collectionString?.string) return data.collectionString.string;
  if (data.collectionBytes?.bytes) return data.collectionBytes.bytes;
  if (data.json !== undefined) {
    const value: unknown = JSON.parse(data.json);
    if (value === null) return [];
    const one = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
    return Array.isArray(value) ? value.map(one) : [one(value)];
  }
  return [];
}

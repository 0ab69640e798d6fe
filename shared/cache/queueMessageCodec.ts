/**
 * Queue messages are base64 of UTF-8 text, the Functions host's default encoding (host.json
 * `messageEncoding: base64`) and what .NET's QueueClient writes with MessageEncoding.Base64.
 */
export function encodeQueueMessage(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Buffer.from(text, 'utf8').toString('base64');
}

export function decodeQueueMessage(messageText: string): string {
  return Buffer.from(messageText, 'base64').toString('utf8');
}

/** What the Functions worker hands a queue-triggered function: parsed JSON when the body is JSON, else the string. */
export function triggerInputOf(decoded: string): unknown {
  try {
    return JSON.parse(decoded);
  } catch {
    return decoded;
  }
}

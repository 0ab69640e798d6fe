/** The logging surface the cache parts need; an InvocationContext or console fits. */
export interface CacheLog {
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

export const silentLog: CacheLog = { info() {}, warn() {}, error() {} };

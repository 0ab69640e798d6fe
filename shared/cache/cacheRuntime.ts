import { CONFIG_FILE_SETTING, CONFIG_JSON_SETTING, configFromEnvironment, requireConfigFromEnvironment } from '../config/loadConfig';
import { CacheFanOut } from './CacheFanOut';
import { CachePublisher } from './CachePublisher';
import { CACHE_DEFAULTS, parseCacheConfig, type CacheConfig } from './cacheConfig';
import { createCacheContext, type CacheContext } from './CacheContext';

/** The cache channel as the Functions app uses it: one per configuration, reused across invocations. */
export interface CacheRuntime {
  config: CacheConfig;
  context: CacheContext;
  publisher: CachePublisher;
  fanOut: CacheFanOut;
}

const runtimes = new Map<string, CacheRuntime>();

/** From RINGKEEPER_CONFIG_JSON / RINGKEEPER_CONFIG; throws ConfigError naming the setting. */
export function cacheRuntimeFromEnvironment(env: NodeJS.ProcessEnv = process.env): CacheRuntime {
  const key = `${env[CONFIG_JSON_SETTING] ?? ''}\u0000${env[CONFIG_FILE_SETTING] ?? ''}`;
  let runtime = runtimes.get(key);
  if (!runtime) {
    const document = requireConfigFromEnvironment(env);
    const where = env[CONFIG_JSON_SETTING]?.trim() ? CONFIG_JSON_SETTING : (env[CONFIG_FILE_SETTING] ?? 'config');
    const config = parseCacheConfig(document.cache, `${where}.cache`, document.storage);
    const context = createCacheContext(config, { env, where: `${where}.cache.storage` });
    runtime = { config, context, publisher: new CachePublisher(context), fanOut: new CacheFanOut(context) };
    runtimes.set(key, runtime);
  }
  return runtime;
}

/**
 * The queue the fan-out trigger listens on, fixed when the function is registered:
 * RINGKEEPER_CACHE_QUEUE, else the configuration's instructionsQueue, else the default. Never
 * throws: a broken configuration must not stop the app's other functions from loading.
 */
export function instructionsQueueForBinding(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.RINGKEEPER_CACHE_QUEUE?.trim();
  if (explicit) return explicit;
  try {
    const cache = configFromEnvironment(env)?.cache as { instructionsQueue?: unknown } | undefined;
    if (typeof cache?.instructionsQueue === 'string' && cache.instructionsQueue) return cache.instructionsQueue;
  } catch {
    // reported by the handler, which validates the configuration on every cold start
  }
  return CACHE_DEFAULTS.instructionsQueue;
}

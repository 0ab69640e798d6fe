import { openRings } from '../app/openRings';
import { readOperatorsView, type OperatorsView } from '../app/health/readOperatorsView';
import { cacheRuntimeFromEnvironment } from '../cache/cacheRuntime';
import { requireConfigFromEnvironment } from '../config/loadConfig';

/** The operators' view of the app's own configuration (rings, and the cache channel when one is configured). */
export function readOperatorsViewFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<OperatorsView> {
  const config = requireConfigFromEnvironment(env);
  const cache = config.cache === undefined ? undefined : cacheRuntimeFromEnvironment(env).context;
  return readOperatorsView(openRings(config, { env }), cache);
}

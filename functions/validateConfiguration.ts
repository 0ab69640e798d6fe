import { app } from '@azure/functions';
import { openRings } from '../shared/app/openRings';
import { requireConfigFromEnvironment } from '../shared/config/loadConfig';

/**
 * Validates the configuration once when the worker starts, so a bad setting shows up in the logs
 * at start-up (naming the setting) and not only at the first timer run. Functions still validate
 * per invocation and answer with problem+json.
 */
export function validateConfiguration(log: (line: string) => void = (line) => console.error(line)): boolean {
  try {
    const config = requireConfigFromEnvironment();
    openRings(config);
    return true;
  } catch (err) {
    log(`ringkeeper configuration error: ${(err as Error).message}`);
    return false;
  }
}

app.hook.appStart(() => {
  validateConfiguration();
});

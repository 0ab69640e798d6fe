/**
 * Replaces `%NAME%` with the app setting NAME, as the host does for binding attributes (schedule,
 * queueName, route, connection). A missing setting is an error, as in the host.
 */
export function resolveAppSettings(value: string, env: NodeJS.ProcessEnv, where: string): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const setting = env[name];
    if (setting === undefined) throw new Error(`${where}: app setting "${name}" (from "%${name}%") is not set`);
    return setting;
  });
}

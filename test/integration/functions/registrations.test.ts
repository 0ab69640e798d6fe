import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installCoreApi } from '../../../shared/devhost/coreApiShim';
import { loadEntryPoints } from '../../../shared/devhost/loadEntryPoints';

const root = path.resolve(__dirname, '../../..');

interface Row {
  name: string;
  trigger: string;
  route: string;
  methods: string;
  auth: string;
}

/** The README's Functions table, which operators and infra rely on. */
function documentedFunctions(): Row[] {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| Function | Trigger |')).split('\n\n')[0]!;
  return table
    .split('\n')
    .slice(2)
    .map((line) => {
      const [name, trigger, route, methods, auth] = line
        .split('|')
        .slice(1, 6)
        .map((c) => c.trim());
      return { name: name!.replace(/`/g, ''), trigger: trigger!, route: route!, methods: methods!, auth: auth! };
    });
}

/** What the compiled app registers through `app.*`, read the way the worker (and the dev host) does. */
async function registeredFunctions(env: Record<string, string | undefined>) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  const shim = installCoreApi();
  const owner = {};
  shim.claim(owner);
  shim.acceptRegistrations(true);
  try {
    await loadEntryPoints(root);
    return new Map(
      [...shim.functions.values()].map(({ metadata }) => [metadata.name, Object.values(metadata.bindings).find((b) => (b as { direction?: string }).direction === 'in') as Record<string, unknown>]),
    );
  } finally {
    shim.release(owner);
    process.env = saved;
  }
}

describe('function registrations', () => {
  it('are exactly the functions the README documents, with their triggers, routes, methods and auth levels', async () => {
    const registered = await registeredFunctions({ RINGKEEPER_ROTATION_SCHEDULE: undefined, RINGKEEPER_CACHE_JANITOR_SCHEDULE: undefined });
    const documented = documentedFunctions();
    expect([...registered.keys()].sort()).toEqual(documented.map((d) => d.name).sort());
    for (const doc of documented) {
      const trigger = registered.get(doc.name)!;
      expect(trigger.type, doc.name).toBe({ http: 'httpTrigger', timer: 'timerTrigger', queue: 'queueTrigger' }[doc.trigger]);
      if (doc.trigger === 'http') {
        expect(`\`${trigger.route}\``, doc.name).toBe(doc.route);
        expect((trigger.methods as string[]).join(','), doc.name).toBe(doc.methods);
        expect(trigger.authLevel, doc.name).toBe(doc.auth);
      }
      if (doc.trigger === 'timer') expect(doc.route, doc.name).toContain(`default \`${trigger.schedule}\``);
      if (doc.trigger === 'queue') {
        expect(doc.route, doc.name).toContain(`default \`${trigger.queueName}\``);
        expect(trigger.connection).toBe('AzureWebJobsStorage');
      }
    }
  });

  it('binds the rotation schedule to the app setting when it is set', async () => {
    const registered = await registeredFunctions({ RINGKEEPER_ROTATION_SCHEDULE: '0 30 */2 * * *' });
    expect(registered.get('rotate-keyrings')!.schedule).toBe('%RINGKEEPER_ROTATION_SCHEDULE%');
  });
});

import path from 'node:path';
import type { AzuriteProcess } from '../azure/azurite';
import { CONFIG_FILE_SETTING, CONFIG_JSON_SETTING } from '../config/loadConfig';
import { ensureLocalEnvironment } from '../config/localDefault';
import { installCoreApi } from './coreApiShim';
import { readHostOptions } from './hostJson';
import { startHttpServer, type HttpHost } from './httpServer';
import { describeError, hostLine, invokeFunction, runHooks, systemLogger, type HostLog, type InvocationInput } from './invokeFunction';
import { loadEntryPoints } from './loadEntryPoints';
import { loadLocalSettings } from './localSettings';
import { startQueueListener, type QueueListener } from './queueListener';
import { queueOutputBindings, writeQueueOutputs, type QueueOutputContext } from './queueOutputs';
import { resolveAppSettings } from './resolveAppSettings';
import { assertQueueName, queueFor } from './storageQueues';
import { startTimerListener, type TimerListener } from './timerListener';
import { defaultUseMonitor, parseTimerSchedule } from './timerSchedule';
import type { RegisteredFunction, RpcInvocationResponse } from './types';
import { settingText } from './settingText';

export type { RegisteredFunction } from './types';

export interface DevHostOptions {
  /** The Functions app root: package.json (`main`), host.json, local.settings.json. */
  appRoot: string;
  /** HTTP port; default 7071, 0 picks a free one. */
  port?: number;
  /** App settings for this run; they override the environment and local.settings.json. */
  env?: NodeJS.ProcessEnv;
  /** Where host lines go; default stdout. */
  log?: (line: string) => void;
  /** Aborting stops the host (same as stop()). */
  signal?: AbortSignal;
  /** With no ringkeeper configuration set, use the embedded local default (default true). */
  useLocalDefault?: boolean;
  /** Folder of the local default's state (./.ringkeeper); default process.cwd(). */
  cwd?: string;
}

export interface DevHost {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  /** The functions that run, as registered through `app.*`. */
  functions: RegisteredFunction[];
  stop(): Promise<void>;
}

const SUPPORTED_TRIGGERS = new Set(['httptrigger', 'timertrigger', 'queuetrigger']);
const ADMIN_REASON = 'This function was programmatically called via the host APIs.';

/** The line `ringkeeper dev` and `npm start` print once the host listens. */
export function readyLine(url: string, functions: RegisteredFunction[]): string {
  return `ringkeeper dev host ready on ${url} (${functions.length} functions: ${functions.map((f) => f.name).join(', ')})`;
}

/**
 * Runs the app's functions without Core Tools: loads the entry points with a stand-in for the
 * worker's `@azure/functions-core` so the `app.*` calls register here, then serves HTTP triggers,
 * fires timers and polls queues, calling the raw handlers through the app's own programming model.
 * Settings are read from and written to process.env, which is what the functions read.
 */
export async function runDevHost(options: DevHostOptions): Promise<DevHost> {
  const appRoot = path.resolve(options.appRoot);
  const log: HostLog = options.log ?? ((line) => process.stdout.write(`${line}\n`));
  const env = process.env;
  for (const [name, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[name] = value;
  loadLocalSettings(appRoot, env);
  const hostOptions = readHostOptions(appRoot);

  const cleanups: (() => unknown)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (err) {
        log(hostLine(`stopping: ${describeError(err)}`));
      }
    }
    cleanups.length = 0;
  };

  try {
    if (options.useLocalDefault !== false && !env[CONFIG_JSON_SETTING]?.trim() && !env[CONFIG_FILE_SETTING]?.trim()) {
      const local = await ensureLocalEnvironment(options.cwd ?? process.cwd());
      const azurite: AzuriteProcess | undefined = local.azurite;
      if (azurite) cleanups.push(() => azurite.stop());
      env[CONFIG_JSON_SETTING] = JSON.stringify(local.config);
      env.AzureWebJobsStorage ??= local.endpoints.connectionString;
      log(hostLine(`No ${CONFIG_JSON_SETTING}/${CONFIG_FILE_SETTING}: using the embedded local default (ring 'local', Azurite account devstoreaccount1${azurite ? ', started for this run' : ''}).`));
    }

    const shim = installCoreApi();
    const owner = {};
    shim.claim(owner);
    cleanups.push(() => shim.release(owner));
    shim.systemLog = systemLogger(shim, log);
    shim.acceptRegistrations(true);
    try {
      await loadEntryPoints(appRoot);
    } finally {
      shim.acceptRegistrations(false);
    }
    const capabilities = (await shim.programmingModel?.getCapabilities?.({})) ?? {};
    if (capabilities.HttpUri) throw new Error('app.setup({ enableHttpStream: true }) is not supported by the dev host');

    const functions = selectFunctions(
      [...shim.functions.values()].map(({ metadata, callback }) => toRegistered(metadata, callback)),
      hostOptions.functions,
      env,
      log,
    );

    const resolve = (value: string, where: string) => resolveAppSettings(value, env, where);
    const listeners = new Map<string, QueueListener[]>();
    const outputs: QueueOutputContext = {
      env,
      encoding: hostOptions.queues.messageEncoding,
      resolve,
      notify: (queueName) => listeners.get(queueName)?.forEach((l) => l.wake()),
    };
    for (const fn of functions) queueOutputBindings(fn, outputs);

    const run = async (fn: RegisteredFunction, input: InvocationInput): Promise<RpcInvocationResponse> => {
      const { response } = await invokeFunction(shim, fn, input, log);
      await writeQueueOutputs(fn, response, outputs);
      return response;
    };

    await runHooks(shim, 'appStart', { hookData: shim.appLevelOnlyHookData, appHookData: shim.appHookData, functionAppDirectory: appRoot });
    cleanups.push(() => runHooks(shim, 'appTerminate', { hookData: shim.appLevelOnlyHookData, appHookData: shim.appHookData }));

    const timers = new Map<string, TimerListener>();
    const queueFunctions = new Map<string, RegisteredFunction>();
    for (const fn of functions) {
      const type = fn.trigger.type.toLowerCase();
      const where = `function "${fn.name}"`;
      if (type === 'timertrigger') {
        const schedule = parseTimerSchedule(resolve(settingText(fn.trigger.schedule), `${where} schedule`));
        const listener = startTimerListener({
          fn,
          schedule,
          runOnStartup: fn.trigger.runOnStartup === true,
          useMonitor: typeof fn.trigger.useMonitor === 'boolean' ? fn.trigger.useMonitor : defaultUseMonitor(schedule),
          adjustForDST: !schedule.description.startsWith('every '),
          invoke: async (f, timer, reason) => {
            await run(f, { reason, inputData: [{ name: f.triggerName, data: timer }] });
          },
          log,
        });
        timers.set(fn.name, listener);
        cleanups.push(() => listener.stop());
      } else if (type === 'queuetrigger') {
        const queueName = resolve(settingText(fn.trigger.queueName), `${where} queueName`).toLowerCase();
        assertQueueName(queueName, `${where} queueName`);
        const connection = resolve(settingText(fn.trigger.connection), `${where} connection`) || undefined;
        const target = queueFor(connection, queueName, env);
        const poisonName = `${queueName}-poison`;
        const poison = queueName.endsWith('-poison') || poisonName.length > 63 ? undefined : queueFor(connection, poisonName, env).client;
        const listener = startQueueListener({
          fn,
          queue: target.client,
          poisonQueue: poison,
          options: hostOptions.queues,
          invoke: async (f, message, metadata, reason) => {
            await run(f, { reason, inputData: [{ name: f.triggerName, data: message }], triggerMetadata: metadata });
          },
          log,
        });
        log(hostLine(`Function '${fn.name}': listening on queue '${queueName}' (account ${target.account})`));
        listeners.set(queueName, [...(listeners.get(queueName) ?? []), listener]);
        queueFunctions.set(fn.name, fn);
        cleanups.push(() => listener.stop());
      }
    }

    const http: HttpHost = await startHttpServer({
      host: '127.0.0.1',
      port: options.port ?? 7071,
      routePrefix: hostOptions.routePrefix,
      functions,
      invoke: (fn, request) => run(fn, { reason: `This function was programmatically called via the host APIs.`, inputData: [{ name: fn.triggerName, data: { http: request } }] }),
      invokeByAdmin: (name, input) => {
        const timer = timers.get(name);
        const queueFn = queueFunctions.get(name);
        if (timer) void timer.runNow(ADMIN_REASON);
        else if (queueFn) {
          run(queueFn, {
            reason: ADMIN_REASON,
            inputData: [{ name: queueFn.triggerName, data: { string: input ?? '' } }],
            triggerMetadata: { QueueTrigger: { string: input ?? '' } },
          }).catch(() => {});
        } else return false;
        return true;
      },
      log,
    });
    cleanups.push(() => http.stop());

    log(hostLine('Functions:'));
    for (const fn of functions) log(`        ${describeFunction(fn, http)}`);
    const host: DevHost = { url: http.url, functions, stop: once(cleanup) };
    options.signal?.addEventListener('abort', () => void host.stop(), { once: true });
    log(readyLine(http.url, functions));
    return host;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function toRegistered(metadata: RegisteredFunction['metadata'], handler: RegisteredFunction['handler']): RegisteredFunction {
  const trigger = Object.entries(metadata.bindings).find(([, b]) => /trigger$/i.test(b.type));
  if (!trigger) throw new Error(`function "${metadata.name}" has no trigger binding`);
  return { name: metadata.name, metadata, handler, triggerName: trigger[0], trigger: trigger[1] };
}

/** Drops disabled, unlisted (host.json `functions`) and unsupported functions, saying why. */
function selectFunctions(all: RegisteredFunction[], listed: string[] | undefined, env: NodeJS.ProcessEnv, log: HostLog): RegisteredFunction[] {
  const selected: RegisteredFunction[] = [];
  for (const fn of all) {
    const disabled = env[`AzureWebJobs.${fn.name}.Disabled`] ?? env[`AzureWebJobs__${fn.name}__Disabled`];
    if (disabled && /^(true|1)$/i.test(disabled.trim())) {
      log(hostLine(`Function '${fn.name}' is disabled (AzureWebJobs.${fn.name}.Disabled).`));
      continue;
    }
    if (listed && !listed.some((n) => n.toLowerCase() === fn.name.toLowerCase())) continue;
    if (!SUPPORTED_TRIGGERS.has(fn.trigger.type.toLowerCase())) {
      log(hostLine(`Function '${fn.name}': trigger type '${fn.trigger.type}' is not emulated by the dev host; it will not run.`));
      continue;
    }
    for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
      if (name === fn.triggerName) continue;
      const type = binding.type.toLowerCase();
      if (binding.direction === 'out' && (type === 'http' || type === 'queue')) continue;
      log(hostLine(`Function '${fn.name}': ${binding.direction ?? 'in'} binding '${name}' of type '${binding.type}' is not emulated by the dev host and is ignored.`));
    }
    selected.push(fn);
  }
  return selected;
}

function describeFunction(fn: RegisteredFunction, http: HttpHost): string {
  const route = http.routes.find((r) => r.fn === fn);
  if (route) {
    const methods = route.methods ? [...route.methods].join(',') : 'ALL';
    return `${fn.name}: [${methods}] ${http.url}/${route.route.template.replace(/^\/+/, '')}`;
  }
  return `${fn.name}: ${fn.trigger.type}`;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

import Module from 'node:module';
import type { FunctionCallback, FunctionMetadata, HookCallback, HookName, LogCategory, LogLevel, ProgrammingModel } from './types';

const CORE_MODULE = '@azure/functions-core';

export interface ShimRegistration {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
}

export type SystemLogHandler = (level: LogLevel, category: LogCategory, message: string) => void;

/**
 * Stand-in for the `@azure/functions-core` module that only exists inside the Node.js worker. The
 * `@azure/functions` library `require`s it lazily on the first `app.*` call, so installing this
 * before the app's entry points load makes every `app.*` call land here: one list of functions.
 * Mirrors the worker's setupCoreModule: a `Module.prototype.require` proxy, this process only.
 */
export class CoreApiShim {
  programmingModel: ProgrammingModel | undefined;
  readonly functions = new Map<string, ShimRegistration>();
  readonly hooks = new Map<HookName, Set<HookCallback>>();
  readonly appHookData: Record<string, unknown> = {};
  /** App-level hook data the worker keeps apart for appStart/appTerminate. */
  readonly appLevelOnlyHookData: Record<string, unknown> = {};
  systemLog: SystemLogHandler = () => {};
  #accepting = false;
  #owner: object | undefined;

  /** Claims the shim for one dev host; the library keeps one programming model per process. */
  claim(owner: object): void {
    if (this.#owner && this.#owner !== owner) throw new Error('a ringkeeper dev host is already running in this process');
    this.#owner = owner;
    this.functions.clear();
    this.hooks.clear();
  }

  release(owner: object): void {
    if (this.#owner === owner) this.#owner = undefined;
    this.#accepting = false;
  }

  /** Registrations are only accepted while entry points load, as in the worker. */
  acceptRegistrations(on: boolean): void {
    this.#accepting = on;
  }

  hooksFor(name: HookName): HookCallback[] {
    return [...(this.hooks.get(name) ?? [])];
  }

  /** The object `require('@azure/functions-core')` returns. */
  readonly api = {
    version: '3.10.1',
    hostVersion: '4.0.0-ringkeeper-dev',
    setProgrammingModel: (model: ProgrammingModel) => {
      this.programmingModel = model;
    },
    getProgrammingModel: () => this.programmingModel,
    registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback) => {
      if (!this.#accepting) throw new Error('A function can only be registered during app startup.');
      const name = metadata?.name;
      if (!name) throw new Error('A function registration has no name.');
      if (this.functions.has(name)) throw new Error(`A function named "${name}" is already registered.`);
      this.functions.set(name, { metadata, callback });
      return disposable(() => {
        if (!this.#accepting) throw new Error('A function can only be disposed during app startup.');
        this.functions.delete(name);
      });
    },
    registerHook: (name: HookName, callback: HookCallback) => {
      let set = this.hooks.get(name);
      if (!set) this.hooks.set(name, (set = new Set()));
      set.add(callback);
      return disposable(() => set.delete(callback));
    },
    log: (level: LogLevel, category: LogCategory, message: string) => this.systemLog(level, category, message),
    Disposable: class {
      #fn: (() => void) | undefined;
      constructor(fn: () => void) {
        this.#fn = fn;
      }
      dispose(): void {
        this.#fn?.();
        this.#fn = undefined;
      }
    },
  };
}

function disposable(fn: () => void): { dispose(): void } {
  let pending: (() => void) | undefined = fn;
  return {
    dispose() {
      pending?.();
      pending = undefined;
    },
  };
}

let installed: CoreApiShim | undefined;

/** Installs the shim once per process and returns it. */
export function installCoreApi(): CoreApiShim {
  if (installed) return installed;
  const shim = new CoreApiShim();
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  proto.require = new Proxy(proto.require, {
    apply(target, thisArg, args: unknown[]) {
      if (args[0] === CORE_MODULE) return shim.api;
      return Reflect.apply(target, thisArg, args) as unknown;
    },
  });
  installed = shim;
  return shim;
}

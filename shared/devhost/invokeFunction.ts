import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import type { CoreApiShim } from './coreApiShim';
import type { CoreInvocationContext, LogCategory, LogLevel, RegisteredFunction, RpcInvocationResponse, RpcParameterBinding, RpcTypedData } from './types';

export type HostLog = (line: string) => void;

export interface InvocationInput {
  /** Why the host runs it, as in the host's "Executing" line. */
  reason: string;
  inputData: RpcParameterBinding[];
  triggerMetadata?: Record<string, RpcTypedData>;
}

export interface InvocationOutcome {
  invocationId: string;
  response: RpcInvocationResponse;
}

const QUIET_LEVELS = new Set<LogLevel>(['trace', 'debug', 'none']);

/** One log line in the host's style: `[time] message`. */
export function hostLine(message: string): string {
  return `[${new Date().toISOString()}] ${message}`;
}

/**
 * Runs one invocation the way the Node.js worker's InvocationHandler does: the app's programming
 * model (the real `@azure/functions` InvocationModel) builds the real InvocationContext and trigger
 * input from RPC data, preInvocation hooks run, the raw handler is called, postInvocation hooks
 * run, and the model converts the result back to RPC output data. Throws what the handler threw.
 */
export async function invokeFunction(shim: CoreApiShim, fn: RegisteredFunction, input: InvocationInput, log: HostLog): Promise<InvocationOutcome> {
  const model = shim.programmingModel;
  if (!model) throw new Error('no programming model was set: did the app load @azure/functions?');
  const invocationId = randomUUID();
  const started = Date.now();
  log(hostLine(`Executing 'Functions.${fn.name}' (Reason='${input.reason}', Id=${invocationId})`));

  const coreCtx: CoreInvocationContext = {
    invocationId,
    request: { invocationId, functionId: fn.name, inputData: input.inputData, triggerMetadata: input.triggerMetadata ?? {} },
    metadata: fn.metadata,
    state: undefined,
    log(level: LogLevel, category: LogCategory, message: string) {
      emitLog(shim, log, level, category, message, fn.name);
    },
  };

  try {
    const invocation = model.getInvocationModel(coreCtx);
    const { context, inputs: initialInputs } = await invocation.getArguments();
    const hookData: Record<string, unknown> = {};
    const pre = {
      hookData,
      appHookData: shim.appHookData,
      invocationContext: context,
      functionCallback: fn.handler,
      inputs: initialInputs,
    };
    coreCtx.state = 'preInvocationHooks';
    try {
      await runHooks(shim, 'preInvocation', pre);
    } finally {
      coreCtx.state = undefined;
    }

    const post = { hookData, appHookData: shim.appHookData, invocationContext: context, inputs: pre.inputs, result: null as unknown, error: null as unknown };
    coreCtx.state = 'invocation';
    try {
      post.result = await invocation.invokeFunction(context, pre.inputs, pre.functionCallback);
    } catch (err) {
      post.error = err;
    } finally {
      coreCtx.state = undefined;
    }
    coreCtx.state = 'postInvocationHooks';
    try {
      await runHooks(shim, 'postInvocation', post);
    } finally {
      coreCtx.state = undefined;
    }
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows whatever the function threw, as the host reports it.
    if (post.error) throw post.error;

    const response = await invocation.getResponse(context, post.result);
    log(hostLine(`Executed 'Functions.${fn.name}' (Succeeded, Id=${invocationId}, Duration=${Date.now() - started}ms)`));
    return { invocationId, response };
  } catch (err) {
    log(hostLine(`Executed 'Functions.${fn.name}' (Failed, Id=${invocationId}, Duration=${Date.now() - started}ms)`));
    log(hostLine(`Exception while executing function: Functions.${fn.name}. Result: Failure Exception: ${describeError(err)}`));
    if (err instanceof Error && err.stack) log(err.stack.split('\n').slice(1).join('\n'));
    throw err;
  }
}

export async function runHooks(shim: CoreApiShim, name: 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation', context: Record<string, unknown>): Promise<void> {
  for (const hook of shim.hooksFor(name)) await hook(context);
}

function emitLog(shim: CoreApiShim, log: HostLog, level: LogLevel, category: LogCategory, message: string, functionName?: string): void {
  for (const hook of shim.hooksFor('log')) {
    try {
      void hook({ level, category, message, hookData: {}, appHookData: shim.appHookData });
    } catch {
      // A failing log hook must not fail the invocation.
    }
  }
  // Like the host's default log level (Information): trace/debug lines are dropped.
  if (QUIET_LEVELS.has(level)) return;
  const tag = level === 'information' ? '' : `${level}: `;
  log(hostLine(`${functionName ? `[${functionName}] ` : ''}${tag}${oneLogEntry(message)}`));
}

/**
 * A function's message as one entry of the host log: control characters (NUL, CR, ESC, ...) are
 * escaped and continuation lines indented, so no message can forge a line of the host's own.
 */
export function oneLogEntry(message: string): string {
  return message
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/\n/g, '\n    ');
}

/** Worker-level system log (library warnings outside an invocation). */
export function systemLogger(shim: CoreApiShim, log: HostLog) {
  return (level: LogLevel, category: LogCategory, message: string) => emitLog(shim, log, level, category, message);
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return format(err);
}

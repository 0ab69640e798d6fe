/**
 * The slice of the `@azure/functions-core` contract the dev host implements. Shapes follow the
 * Node.js worker's RPC types (azure-functions-nodejs-worker, types-core), trimmed to what the
 * `@azure/functions` programming model reads and writes.
 */

/** One binding as `toCoreFunctionMetadata` writes it: `{type, direction, ...options}`. */
export interface RpcBinding {
  type: string;
  direction?: 'in' | 'out' | 'inout';
  [option: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, RpcBinding>;
  retryOptions?: unknown;
}

/** RPC typed data: exactly one member is set. */
export interface RpcTypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  stream?: Uint8Array;
  http?: RpcHttpData;
  int?: number;
  double?: number;
  collectionString?: { string?: string[] };
  collectionBytes?: { bytes?: Uint8Array[] };
}

export interface RpcHttpCookie {
  name?: string;
  value?: string;
  domain?: { value?: string } | null;
  path?: { value?: string } | null;
  expires?: { value?: { seconds?: number } } | null;
  secure?: { value?: boolean } | null;
  httpOnly?: { value?: boolean } | null;
  sameSite?: 'none' | 'lax' | 'strict' | 'explicitNone';
  maxAge?: { value?: number } | null;
}

export interface RpcHttpData {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
  body?: RpcTypedData | null;
  statusCode?: string;
  cookies?: RpcHttpCookie[];
  enableContentNegotiation?: boolean;
}

export interface RpcParameterBinding {
  name: string;
  data: RpcTypedData;
}

export interface RpcInvocationRequest {
  invocationId: string;
  functionId: string;
  inputData: RpcParameterBinding[];
  triggerMetadata: Record<string, RpcTypedData>;
}

export interface RpcInvocationResponse {
  invocationId?: string;
  outputData?: { name: string; data?: RpcTypedData | null }[];
  returnValue?: RpcTypedData | null;
}

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export type LogCategory = 'user' | 'system' | 'customMetric';
export type InvocationState = 'preInvocationHooks' | 'postInvocationHooks' | 'invocation';

export interface CoreInvocationContext {
  invocationId: string;
  request: RpcInvocationRequest;
  metadata: FunctionMetadata;
  state?: InvocationState;
  log(level: LogLevel, category: LogCategory, message: string): void;
}

/** What the programming model hands back for one invocation (`InvocationModel` in the library). */
export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<RpcInvocationResponse>;
}

export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreCtx: CoreInvocationContext): InvocationModel;
  getCapabilities?(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

export type FunctionCallback = (...args: unknown[]) => unknown;
export type HookName = 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation' | 'log';
export type HookCallback = (context: Record<string, unknown>) => unknown;

/** A function registered through `app.*`, as the dev host runs it. */
export interface RegisteredFunction {
  name: string;
  metadata: FunctionMetadata;
  /** The raw user handler passed to `app.*`. */
  handler: FunctionCallback;
  /** The binding whose type ends in `Trigger`. */
  triggerName: string;
  trigger: RpcBinding;
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setCookieHeaders } from './httpCookies';
import { compareRoutes, compileRoute, type CompiledRoute } from './httpRoute';
import type { RegisteredFunction, RpcHttpData, RpcInvocationResponse, RpcTypedData } from './types';

export interface HttpRoute {
  fn: RegisteredFunction;
  route: CompiledRoute;
  /** Upper-case; undefined = every method. */
  methods?: Set<string>;
}

export interface HttpHostOptions {
  host: string;
  port: number;
  routePrefix: string;
  functions: RegisteredFunction[];
  /** Runs one HTTP invocation; rejects with what the handler threw. */
  invoke(fn: RegisteredFunction, request: RpcHttpData): Promise<RpcInvocationResponse>;
  /** Admin API `POST /admin/functions/{name}`: runs a non-HTTP function once; false = unknown name. */
  invokeByAdmin(name: string, input: string | undefined): boolean;
  log(line: string): void;
}

export interface HttpHost {
  url: string;
  routes: HttpRoute[];
  stop(): Promise<void>;
}

/** The HTTP port is taken (another `npm start` or Functions host); callers add how to pick another. */
export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`port ${port} on ${host} is already in use (another \`npm start\`, \`ringkeeper dev\` or Functions host?)`);
    this.name = 'PortInUseError';
  }
}

/** The HTTP side of the host: routes under the route prefix, the function's own methods, no keys. */
export async function startHttpServer(options: HttpHostOptions): Promise<HttpHost> {
  const routes = httpRoutes(options.functions, options.routePrefix);
  const server: Server = createServer((req, res) => {
    handle(req, res, routes, options).catch((err) => {
      options.log(`HTTP pipeline error: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUseError(options.host, options.port) : err);
    server.once('error', fail);
    server.listen(options.port, options.host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    routes,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function httpRoutes(functions: RegisteredFunction[], routePrefix: string): HttpRoute[] {
  return functions
    .filter((fn) => fn.trigger.type.toLowerCase() === 'httptrigger')
    .map((fn) => {
      const route = (fn.trigger.route as string | undefined) ?? fn.name;
      const methods = fn.trigger.methods as string[] | undefined;
      return {
        fn,
        route: compileRoute([routePrefix, route.replace(/^\/+/, '')].filter(Boolean).join('/')),
        methods: methods && methods.length ? new Set(methods.map((m) => m.toUpperCase())) : undefined,
      };
    })
    .sort((a, b) => compareRoutes(a.route, b.route));
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: HttpRoute[], options: HttpHostOptions): Promise<void> {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? options.host}`);
  const method = (req.method ?? 'GET').toUpperCase();

  const adminFunction = /^\/admin\/functions\/([^/]+)\/?$/i.exec(url.pathname)?.[1];
  if (adminFunction !== undefined && method === 'POST') {
    const body = await readBody(req);
    let input: string | undefined;
    try {
      const parsed = body.length ? (JSON.parse(body.toString('utf8')) as { input?: unknown }) : {};
      input = parsed.input === undefined || typeof parsed.input === 'string' ? parsed.input : JSON.stringify(parsed.input);
    } catch {
      return send(res, 400, 'the body must be JSON like {"input": "..."}');
    }
    return options.invokeByAdmin(decodeURIComponent(adminFunction), input) ? send(res, 202) : send(res, 404);
  }
  if (url.pathname === '/admin/host/status' && method === 'GET') {
    return send(res, 200, JSON.stringify({ state: 'Running', version: 'ringkeeper dev host' }), 'application/json; charset=utf-8');
  }

  const pathname = url.pathname;
  // The host returns 404 (not 405) when the path matches but the method does not (azure-functions-host#10098).
  let target: { entry: HttpRoute; params: Record<string, string> } | undefined;
  for (const entry of routes) {
    if (entry.methods && !entry.methods.has(method)) continue;
    const params = entry.route.match(pathname);
    if (params) {
      target = { entry, params };
      break;
    }
  }
  if (!target) {
    if (method === 'GET' && (pathname === '/' || pathname === '')) return send(res, 200, 'ringkeeper dev host is running\n', 'text/plain; charset=utf-8');
    await readBody(req);
    return send(res, 404);
  }

  const body = await readBody(req);
  const request: RpcHttpData = {
    method,
    url: url.toString(),
    headers: flattenHeaders(req),
    query: queryRecord(url.searchParams),
    params: target.params,
    body: body.length ? { bytes: body } : undefined,
  };
  let response: RpcInvocationResponse;
  try {
    response = await options.invoke(target.entry.fn, request);
  } catch {
    // The host answers an unhandled function error with a bare 500.
    return send(res, 500);
  }
  writeResponse(res, httpOutput(target.entry.fn, response));
}

/** The RPC value of the function's HTTP output binding (`$return` or a named `http` output). */
function httpOutput(fn: RegisteredFunction, response: RpcInvocationResponse): RpcTypedData | null | undefined {
  const name = Object.entries(fn.metadata.bindings).find(([, b]) => b.direction === 'out' && b.type.toLowerCase() === 'http')?.[0];
  if (!name || name === '$return') return response.returnValue;
  return response.outputData?.find((o) => o.name === name)?.data;
}

function writeResponse(res: ServerResponse, value: RpcTypedData | null | undefined): void {
  const http = value?.http;
  if (!http) {
    // No response object: the host's fallback is an empty 200 (OkResult).
    return send(res, 200);
  }
  const status = Number(http.statusCode ?? 200) || 200;
  for (const [name, headerValue] of Object.entries(http.headers ?? {})) res.setHeader(name, headerValue);
  const cookies = setCookieHeaders(http.cookies);
  if (cookies.length) res.setHeader('set-cookie', cookies);
  const body = typedBytes(http.body);
  if (!res.hasHeader('content-length') && status !== 204 && status !== 304) res.setHeader('content-length', body.length);
  res.writeHead(status);
  res.end(status === 204 || status === 304 ? undefined : body);
}

function typedBytes(data: RpcTypedData | null | undefined): Buffer {
  if (!data) return Buffer.alloc(0);
  if (data.bytes) return Buffer.from(data.bytes);
  if (data.string !== undefined) return Buffer.from(data.string, 'utf8');
  if (data.json !== undefined) return Buffer.from(data.json, 'utf8');
  if (data.int !== undefined) return Buffer.from(String(data.int));
  if (data.double !== undefined) return Buffer.from(String(data.double));
  return Buffer.alloc(0);
}

function send(res: ServerResponse, status: number, body?: string, contentType?: string): void {
  if (contentType) res.setHeader('content-type', contentType);
  res.setHeader('content-length', body ? Buffer.byteLength(body) : 0);
  res.writeHead(status);
  res.end(body);
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Repeated keys joined with ",", as the host's query dictionary (StringValues) does. */
function queryRecord(params: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = {};
  for (const key of new Set(params.keys())) query[key] = params.getAll(key).join(',');
  return query;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

import { describe, expect, it } from 'vitest';
import { compareRoutes, compileRoute } from '../../../shared/devhost/httpRoute';
import { expandBraces, globFiles } from '../../../shared/devhost/globFiles';
import { hostOptionsFrom } from '../../../shared/devhost/hostJson';
import path from 'node:path';

describe('route templates', () => {
  it('matches literals case-insensitively and decodes parameters', () => {
    const route = compileRoute('api/keyrings/{ring}/rotate');
    expect(route.match('/API/KeyRings/my%20ring/rotate')).toEqual({ ring: 'my ring' });
    expect(route.match('/api/keyrings/x/rotate/')).toEqual({ ring: 'x' });
    expect(route.match('/api/keyrings/x')).toBeUndefined();
  });

  it('supports optional, default, catch-all and constrained parameters', () => {
    expect(compileRoute('api/items/{id?}').match('/api/items')).toEqual({});
    expect(compileRoute('api/page/{n:int:min(1)=1}').match('/api/page')).toEqual({ n: '1' });
    expect(compileRoute('api/page/{n:int:min(1)}').match('/api/page/0')).toBeUndefined();
    expect(compileRoute('api/page/{n:int}').match('/api/page/x')).toBeUndefined();
    expect(compileRoute('api/files/{*path}').match('/api/files/a/b%20c')).toEqual({ path: 'a/b c' });
    expect(compileRoute('api/{ring:alpha:maxlength(5)}').match('/api/abcdef')).toBeUndefined();
    expect(compileRoute('api/{id:regex(^k-[0-9]+$)}').match('/api/k-12')).toEqual({ id: 'k-12' });
    expect(compileRoute('api/{name}.{ext}').match('/api/report.tar.gz')).toEqual({ name: 'report.tar', ext: 'gz' });
  });

  it('orders literal segments before parameters (ASP.NET precedence)', () => {
    const routes = ['api/keyrings/{ring}', 'api/keyrings/{*rest}', 'api/keyrings/status', 'api/keyrings/{ring:alpha}'].map(compileRoute);
    expect(routes.sort(compareRoutes).map((r) => r.template)).toEqual(['api/keyrings/status', 'api/keyrings/{ring:alpha}', 'api/keyrings/{ring}', 'api/keyrings/{*rest}']);
  });

  it('refuses templates the host refuses', () => {
    expect(() => compileRoute('api/{a}/{A}')).toThrow(/twice/);
    expect(() => compileRoute('api/{x:nosuch}')).toThrow(/not supported/);
    expect(() => compileRoute('api/{*rest}/more')).toThrow(/catch-all/);
  });
});

describe('entry points and host.json', () => {
  it('resolves package.json main globs like globby', () => {
    const root = path.resolve(__dirname, '../../fixtures/devhost-app');
    expect(globFiles(root, 'functions/*.js')).toEqual(['functions/http.js', 'functions/queue.js', 'functions/timer.js']);
    expect(globFiles(root, '{record.js,functions/t*.js}')).toEqual(['functions/timer.js', 'record.js']);
    expect(globFiles(root, '**/q*.js')).toEqual(['functions/queue.js']);
    expect(expandBraces('a/{b,c/{d,e}}.js')).toEqual(['a/b.js', 'a/c/d.js', 'a/c/e.js']);
  });

  it('reads extensions.queues with the extension defaults', () => {
    const defaults = hostOptionsFrom({ version: '2.0' });
    expect(defaults.routePrefix).toBe('api');
    expect(defaults.queues).toMatchObject({ batchSize: 16, maxDequeueCount: 5, visibilityTimeoutMs: 0, maxPollingIntervalMs: 60_000, messageEncoding: 'base64' });
    const custom = hostOptionsFrom({ extensions: { http: { routePrefix: '' }, Queues: { BatchSize: 4, visibilityTimeout: '00:00:30', maxPollingInterval: '00:00:02.5' } } });
    expect(custom.routePrefix).toBe('');
    expect(custom.queues).toMatchObject({ batchSize: 4, visibilityTimeoutMs: 30_000, maxPollingIntervalMs: 2500 });
    expect(() => hostOptionsFrom({ extensions: { queues: { batchSize: 33 } } })).toThrow(/1-32/);
  });
});

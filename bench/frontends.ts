/**
 * Front-end bench: TypeScript (`CacheSubscriber`) and .NET (`Ringkeeper.Cache`, one process each, the
 * test/dotnet/FrontEnd program) front-ends side by side on one channel, fed by the same publishes and
 * ringkeeper's fan-out with this app's host.json queue settings.
 *
 * - dense row: a steady rate (default 50 envelopes/s for 8 s) at 10 front-ends of each kind;
 * - sparse row: one publish every 5 s (±1 s, editors do not publish on a metronome) for 2 minutes: the
 *   fan-out trigger's idle polling (host.json `maxPollingInterval`) and the front-ends' idle back-off
 *   (`pollMaxInMs` / `PollMax`) dominate the latency; beside it Umbraco's 5-second poller on the same
 *   publishes, and each side's storage requests per minute (the idle cost).
 *
 * Development knobs (a run that uses one leaves bench/results and the README alone): FRONTENDS_BENCH_FRONT_ENDS
 * (10, per kind), FRONTENDS_BENCH_RATE (50), FRONTENDS_BENCH_SECONDS (8), FRONTENDS_BENCH_SPARSE_SECONDS (120),
 * FRONTENDS_BENCH_SPARSE_INTERVAL_MS (5000), FRONTENDS_BENCH_IDLE_SECONDS (30); polling alternatives: FRONTENDS_BENCH_MAX_POLLING_MS (the fan-out's, instead of
 * host.json's) and FRONTENDS_BENCH_POLL_MAX_MS (the front-ends' idle back-off cap, instead of the libraries' default).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseCacheConfig } from '../shared/cache/cacheConfig';
import { createCacheContext } from '../shared/cache/CacheContext';
import { CacheFanOut } from '../shared/cache/CacheFanOut';
import { CachePublisher } from '../shared/cache/CachePublisher';
import { CacheSubscriber } from '../shared/cache/CacheSubscriber';
import { InstructionQueuePump } from '../shared/cache/InstructionQueuePump';
import { MemorySequenceStore } from '../shared/cache/SequenceStore';
import { readHostOptions } from '../shared/devhost/hostJson';
import { channelSettings, DotnetFrontEnd, dotnetPresence } from '../test/support/dotnetFrontEnd';
import { APP_ROOT, countRequests, percentiles, requests, roles, round, simulateUmbracoBaseline, UMBRACO_INTERVAL_MS, type Percentiles } from './cache';

export interface FrontEndsBenchOptions {
  azurite: { connectionString: string };
  quick?: boolean;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timeSpan = (ms: number) => new Date(ms).toISOString().slice(11, 23);

/** The idle polling under test: the fan-out's (host.json unless overridden) and the front-ends' back-off cap (library default unless overridden). */
interface Polling {
  fanOutMs: number;
  frontEndMs?: number;
}

/** One channel with `n` TypeScript and `n` .NET front-ends, the fan-out pump and one publisher; latencies by kind. */
async function openChannel(connectionString: string, n: number, dir: string, errors: string[], polling: Polling) {
  const suffix = randomUUID().slice(0, 8);
  const config = parseCacheConfig(
    {
      channels: [{ name: 'production' }],
      instructionsQueue: `bench-fi-${suffix}`,
      journalContainer: `bench-fj-${suffix}`,
      frontEndQueuePrefix: `f${suffix.slice(0, 6)}`,
      storage: { connectionString },
    },
    'bench.frontends',
  );
  const ctx = createCacheContext(config);
  await ctx.journal.ensureContainer();
  await ctx.ensureQueue(config.instructionsQueue);
  const started = new Map<string, number>();
  const latencies = { ts: [] as number[], dotnet: [] as number[] };
  const applied = { ts: 0, dotnet: 0 };
  const perId = { ts: new Map<string, number>(), dotnet: new Map<string, number>() };
  const record = (kind: 'ts' | 'dotnet', id: string) => {
    applied[kind]++;
    perId[kind].set(id, (perId[kind].get(id) ?? 0) + 1);
    const t = started.get(id);
    if (t !== undefined) latencies[kind].push(performance.now() - t);
  };

  const subscribers: CacheSubscriber[] = [];
  for (let i = 0; i < n; i++) {
    // Library defaults for everything that shapes idle behaviour: those are what the bench measures.
    const s = new CacheSubscriber({
      context: ctx,
      channel: 'production',
      instance: `ts-${i}`,
      store: new MemorySequenceStore(),
      onError: (err, where) => void errors.push(`ts front-end ${where}: ${err.message}`),
      apply: (e) => record('ts', e.id),
      ...(polling.frontEndMs === undefined ? {} : { pollMaxInMs: polling.frontEndMs }),
    });
    await roles.run('frontend', () => s.start());
    subscribers.push(s);
  }
  const dotnet = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const { fe } = await DotnetFrontEnd.plain(`dotnet-${i}`, {
        ...channelSettings(config, { channel: 'production', instance: `dotnet-${i}`, connectionString, positionFile: path.join(dir, `${suffix}-dotnet-${i}.json`) }),
        ...(polling.frontEndMs === undefined ? {} : { PollMax: timeSpan(polling.frontEndMs) }),
      });
      fe.onEvent = (e) => {
        if (e.event === 'envelope' && e.id !== undefined) record('dotnet', e.id);
        else if (e.event === 'error') errors.push(`dotnet-${i}: ${e.op ?? '?'}: ${e.message ?? ''}`);
      };
      return fe;
    }),
  );

  const queues = readHostOptions(APP_ROOT).queues;
  const fanOut = new CacheFanOut(ctx);
  const pump = new InstructionQueuePump(ctx.queueService.getQueueClient(config.instructionsQueue), (input, meta) => fanOut.handle(input, { dequeueCount: meta.dequeueCount }), {
    batchSize: queues.batchSize,
    maxPollingIntervalInMs: polling.fanOutMs,
    onError: (err) => errors.push(`fan-out: ${(err as Error).message}`),
  });
  roles.run('fanout', () => pump.start());
  const publisher = new CachePublisher(createCacheContext(config));
  const rows: Array<{ start: number; inserted: number }> = [];

  return {
    latencies,
    applied,
    rows,
    dotnet,
    async publish(k: number, measured: boolean): Promise<void> {
      const id = randomUUID();
      const t = performance.now();
      if (measured) started.set(id, t);
      await roles.run('publish', () => publisher.publish({ id, instructions: [{ refresher: 'content', type: 'RefreshByIds', ids: [k] }] }, { channel: 'production', origin: 'bench-publisher' }));
      if (measured) rows.push({ start: t, inserted: performance.now() });
    },
    /** Waits until both kinds applied `count` envelopes each on every front-end (or the deadline). */
    async drained(count: number, timeoutMs: number): Promise<boolean> {
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        if (applied.ts >= count * n && applied.dotnet >= count * n) return true;
        await sleep(20);
      }
      return false;
    },
    async dotnetRequests(): Promise<number> {
      return (await Promise.all(dotnet.map((fe) => fe.requests()))).reduce((a, b) => a + b, 0);
    },
    /** Throws when an envelope was applied more often than once per front-end of a kind. */
    checkOnce(): void {
      for (const kind of ['ts', 'dotnet'] as const) {
        const twice = [...perId[kind].values()].filter((c) => c > n).length;
        if (twice > 0) throw new Error(`bench: ${twice} envelopes applied more often than once per ${kind === 'ts' ? 'TypeScript' : '.NET'} front-end`);
      }
    },
    async close(): Promise<void> {
      await pump.stop();
      await Promise.all([...subscribers.map((s) => s.stop({ unregister: true })), ...dotnet.map((fe) => fe.stop({ unregister: true }).catch(() => fe.killed()))]);
      await ctx.queueService.getQueueClient(config.instructionsQueue).deleteIfExists();
      await ctx.journal.container.deleteIfExists();
    },
  };
}

export interface DenseRow {
  frontEnds: number;
  rate: number;
  seconds: number;
  published: number;
  complete: boolean;
  ts: Percentiles;
  dotnet: Percentiles;
}

export interface SparseRow {
  frontEnds: number;
  intervalMs: number;
  seconds: number;
  published: number;
  complete: boolean;
  fanOutMaxPollingIntervalMs: number;
  frontEndPollMaxMs: number | 'library default';
  ts: Percentiles;
  dotnet: Percentiles;
  umbraco: Percentiles;
  idleSeconds: number;
  /** Storage requests per minute with no traffic at all (after the back-off settled): per front-end; the fan-out as a whole. */
  idleRequestsPerMinute: { tsFrontEnd: number; dotnetFrontEnd: number; fanOut: number };
  /** Storage requests per minute while the sparse traffic lasts (per front-end; the fan-out as a whole; Umbraco: SQL queries per server). */
  requestsPerMinute: { tsFrontEnd: number; dotnetFrontEnd: number; fanOut: number; umbracoServer: number };
}

async function denseRow(o: { connectionString: string; n: number; rate: number; seconds: number; dir: string; errors: string[]; polling: Polling }): Promise<DenseRow> {
  const ch = await openChannel(o.connectionString, o.n, o.dir, o.errors, o.polling);
  try {
    // Warm-up, not measured: connections, JIT in every .NET process, the publisher's id window.
    const warm = Math.min(o.rate, 20);
    await Promise.all(Array.from({ length: warm }, (_, k) => ch.publish(k, false)));
    await ch.drained(warm, 30_000);
    ch.applied.ts = 0;
    ch.applied.dotnet = 0;
    const total = Math.round(o.rate * o.seconds);
    const t0 = performance.now();
    const inflight: Promise<void>[] = [];
    for (let k = 0; k < total; k++) {
      const wait = t0 + (k * 1000) / o.rate - performance.now();
      if (wait > 1) await sleep(wait);
      inflight.push(ch.publish(k, true).catch((err: unknown) => void o.errors.push(`publish: ${(err as Error).message}`)));
    }
    await Promise.all(inflight);
    const complete = await ch.drained(total, Math.max(15_000, o.seconds * 1000));
    ch.checkOnce();
    return { frontEnds: o.n, rate: o.rate, seconds: o.seconds, published: total, complete, ts: percentiles(ch.latencies.ts), dotnet: percentiles(ch.latencies.dotnet) };
  } finally {
    await ch.close();
  }
}

async function sparseRow(o: { connectionString: string; n: number; intervalMs: number; seconds: number; idleSeconds: number; dir: string; errors: string[]; polling: Polling }): Promise<SparseRow> {
  const ch = await openChannel(o.connectionString, o.n, o.dir, o.errors, o.polling);
  try {
    await ch.publish(0, false);
    await ch.drained(1, 30_000);
    ch.applied.ts = 0;
    ch.applied.dotnet = 0;
    // Let every poller reach its idle back-off, then measure the cost of nothing happening at all.
    await sleep(5_000);
    const idleFrom = { ...requests };
    const idleDotnetFrom = await ch.dotnetRequests();
    const idleStarted = performance.now();
    await sleep(o.idleSeconds * 1000);
    const idleMinutes = (performance.now() - idleStarted) / 60_000;
    const idleDotnet = await ch.dotnetRequests();
    const idle = {
      tsFrontEnd: round((requests.frontend - idleFrom.frontend) / o.n / idleMinutes),
      dotnetFrontEnd: round((idleDotnet - idleDotnetFrom) / o.n / idleMinutes),
      fanOut: round((requests.fanout - idleFrom.fanout) / idleMinutes),
    };
    const before = { ...requests };
    const dotnetBefore = await ch.dotnetRequests();
    const total = Math.max(1, Math.floor((o.seconds * 1000) / o.intervalMs));
    const t0 = performance.now();
    const inflight: Promise<void>[] = [];
    for (let k = 0; k < total; k++) {
      const at = t0 + k * o.intervalMs + (Math.random() - 0.5) * Math.min(2_000, o.intervalMs / 2);
      const wait = at - performance.now();
      if (wait > 1) await sleep(wait);
      inflight.push(ch.publish(k, true).catch((err: unknown) => void o.errors.push(`publish: ${(err as Error).message}`)));
    }
    await Promise.all(inflight);
    const complete = await ch.drained(total, 30_000);
    ch.checkOnce();
    // The window is the publishing time; the few seconds of drain are inside the count, so the rate is per measured minute.
    const minutes = (performance.now() - t0) / 60_000;
    const dotnetAfter = await ch.dotnetRequests();
    const after = { ...requests };
    const baseline = simulateUmbracoBaseline(ch.rows, o.n, t0, o.seconds);
    return {
      frontEnds: o.n,
      intervalMs: o.intervalMs,
      seconds: o.seconds,
      published: total,
      complete,
      fanOutMaxPollingIntervalMs: o.polling.fanOutMs,
      frontEndPollMaxMs: o.polling.frontEndMs ?? 'library default',
      ts: percentiles(ch.latencies.ts),
      dotnet: percentiles(ch.latencies.dotnet),
      umbraco: baseline.latency,
      idleSeconds: o.idleSeconds,
      idleRequestsPerMinute: idle,
      requestsPerMinute: {
        tsFrontEnd: round((after.frontend - before.frontend) / o.n / minutes),
        dotnetFrontEnd: round((dotnetAfter - dotnetBefore) / o.n / minutes),
        fanOut: round((after.fanout - before.fanout) / minutes),
        umbracoServer: 60_000 / UMBRACO_INTERVAL_MS,
      },
    };
  } finally {
    await ch.close();
  }
}

const ms = (p: Percentiles) => `${p.p50} / ${p.p95} / ${p.p99}`;

export function frontEndsMarkdown(dense: DenseRow, sparse: SparseRow, meta: { quick: boolean; cpus: number; loadAverage: number }): string {
  const r = sparse.requestsPerMinute;
  const i = sparse.idleRequestsPerMinute;
  return [
    `Front-ends side by side (${meta.quick ? 'quick' : 'full'} run; ${meta.cpus} cores, load average ${meta.loadAverage} when it started): ${dense.frontEnds} TypeScript and ${dense.frontEnds} .NET front-ends on one channel, fed by the same publishes through ringkeeper's fan-out (host.json: \`maxPollingInterval\` ${sparse.fanOutMaxPollingIntervalMs} ms), library defaults on both sides. Latency is publish call to applied (.NET: to the envelope line on the process's stdout), p50 / p95 / p99 in ms.`,
    '',
    '| traffic | TypeScript front-ends | .NET front-ends | Umbraco-style 5 s poll |',
    '|---|---:|---:|---:|',
    `| dense: ${dense.rate}/s for ${dense.seconds} s (${dense.published} envelopes${dense.complete ? '' : ', not all applied ✗'}) | ${ms(dense.ts)} | ${ms(dense.dotnet)} | (see the sweep) |`,
    `| sparse: one every ${sparse.intervalMs / 1000} s for ${sparse.seconds} s (${sparse.published} envelopes${sparse.complete ? '' : ', not all applied ✗'}) | ${ms(sparse.ts)} | ${ms(sparse.dotnet)} | ${ms(sparse.umbraco)} |`,
    '',
    `| storage requests / minute | idle (${sparse.idleSeconds} s, nothing published) | sparse row |`,
    '|---|---:|---:|',
    `| TypeScript front-end (each) | ${i.tsFrontEnd} | ${r.tsFrontEnd} |`,
    `| .NET front-end (each) | ${i.dotnetFrontEnd} | ${r.dotnetFrontEnd} |`,
    `| fan-out (the whole instructions queue) | ${i.fanOut} | ${r.fanOut} |`,
    `| Umbraco server (each; SQL queries) | ${r.umbracoServer} | ${r.umbracoServer} |`,
  ].join('\n');
}

function positive(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`bench: "${raw}" is not a positive number`);
  return v;
}

export async function runFrontEndsBench(opts: FrontEndsBenchOptions): Promise<{ name: 'frontends'; results: unknown; markdown: string; custom: boolean }> {
  const quick = opts.quick ?? false;
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const presence = dotnetPresence();
  if (!presence.available) throw new Error(`the front-end bench runs .NET front-ends and needs the .NET SDK: ${presence.reason}`);
  const n = positive(env.FRONTENDS_BENCH_FRONT_ENDS, 10);
  const rate = positive(env.FRONTENDS_BENCH_RATE, 50);
  const seconds = positive(env.FRONTENDS_BENCH_SECONDS, quick ? 3 : 8);
  const sparseSeconds = positive(env.FRONTENDS_BENCH_SPARSE_SECONDS, quick ? 20 : 120);
  const intervalMs = positive(env.FRONTENDS_BENCH_SPARSE_INTERVAL_MS, 5_000);
  const idleSeconds = positive(env.FRONTENDS_BENCH_IDLE_SECONDS, quick ? 10 : 30);
  const fanOutOverride = env.FRONTENDS_BENCH_MAX_POLLING_MS;
  const frontEndOverride = env.FRONTENDS_BENCH_POLL_MAX_MS;
  const polling: Polling = {
    fanOutMs: fanOutOverride === undefined ? readHostOptions(APP_ROOT).queues.maxPollingIntervalMs : positive(fanOutOverride, 0),
    frontEndMs: frontEndOverride === undefined ? undefined : positive(frontEndOverride, 0),
  };
  const custom = quick || Object.keys(env).some((k) => k.startsWith('FRONTENDS_BENCH_'));
  countRequests();
  const loadAverage = round(loadavg()[0]!, 2);
  const began = performance.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'ringkeeper-bench-frontends-'));
  const errors: string[] = [];
  try {
    const dense = await denseRow({ connectionString: opts.azurite.connectionString, n, rate, seconds, dir, errors, polling });
    log(`front-end bench: dense ${n}+${n} front-ends @ ${rate}/s: TypeScript p50/p95/p99 ${ms(dense.ts)} ms, .NET ${ms(dense.dotnet)} ms${dense.complete ? '' : ' (not all applied)'}`);
    const sparse = await sparseRow({ connectionString: opts.azurite.connectionString, n, intervalMs, seconds: sparseSeconds, idleSeconds, dir, errors, polling });
    const r = sparse.requestsPerMinute;
    log(
      `front-end bench: sparse 1/${intervalMs / 1000} s for ${sparseSeconds} s: TypeScript ${ms(sparse.ts)} ms, .NET ${ms(sparse.dotnet)} ms, Umbraco poll ${ms(sparse.umbraco)} ms; requests/min per front-end TypeScript ${r.tsFrontEnd}, .NET ${r.dotnetFrontEnd}, fan-out ${r.fanOut}; idle: ${sparse.idleRequestsPerMinute.tsFrontEnd}, ${sparse.idleRequestsPerMinute.dotnetFrontEnd}, ${sparse.idleRequestsPerMinute.fanOut}`,
    );
    if (errors.length) log(`front-end bench: ${errors.length} errors, first: ${errors.slice(0, 3).join(' | ')}`);
    const meta = { quick, cpus: cpus().length, loadAverage };
    const results = { generatedAt: new Date().toISOString(), node: process.version, dotnet: presence.version, ...meta, errors: errors.length, dense, sparse };
    const resultsFile = custom ? path.join(tmpdir(), `ringkeeper-bench-frontends-${process.pid}.json`) : path.join(APP_ROOT, 'bench', 'results', 'frontends.json');
    mkdirSync(path.dirname(resultsFile), { recursive: true });
    writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    log(`front-end bench: done in ${Math.round((performance.now() - began) / 1000)} s; ${resultsFile}`);
    return { name: 'frontends', results, markdown: frontEndsMarkdown(dense, sparse, meta), custom };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

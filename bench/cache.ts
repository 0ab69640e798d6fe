/**
 * Cache channel bench: publish-to-applied latency on every front-end (p50/p95/p99), sustained
 * throughput and storage requests per instruction per front-end with 1, 10 and 50 front-ends on
 * Azurite, side by side with a baseline that polls like Umbraco (every 5 s, at most 100 rows per
 * poll) fed by the same publishes. Writes bench/results/cache.json; bench/run.ts puts the table in bench/README.md.
 *
 * Azurite caveat: with --inMemoryPersistence, Azurite's queue GC (mark and sweep every 60 s) stalls
 * the whole emulator for tens of seconds once some ten thousand messages have come and gone; a run
 * that hits it shows a throughput phase of ~30 s or more. Start Azurite with a --location for the bench.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseCacheConfig } from '../shared/cache/cacheConfig';
import { createCacheContext } from '../shared/cache/CacheContext';
import { CacheFanOut } from '../shared/cache/CacheFanOut';
import { CachePublisher } from '../shared/cache/CachePublisher';
import { CacheSubscriber } from '../shared/cache/CacheSubscriber';
import { InstructionQueuePump } from '../shared/cache/InstructionQueuePump';
import { MemorySequenceStore } from '../shared/cache/SequenceStore';

export interface CacheBenchOptions {
  azurite: { connectionString: string; blobEndpoint: string; queueEndpoint: string };
  quick?: boolean;
  /** Default: bench/results/cache.json under the app root. */
  resultsFile?: string;
  markdownFile?: string;
  log?: (line: string) => void;
  /** Front-end counts to run (default 1, 10, 50). */
  frontEnds?: number[];
}

type Role = 'publish' | 'fanout' | 'frontend';
const roles = new AsyncLocalStorage<Role>();
const requests: Record<Role, number> = { publish: 0, fanout: 0, frontend: 0 };
let subscribed = false;

/** Counts every HTTP request the storage SDK sends, by the role whose async context sent it. */
function countRequests(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('http.client.request.start', () => {
    const role = roles.getStore();
    if (role) requests[role]++;
  });
}

const UMBRACO_INTERVAL_MS = 5_000;
const UMBRACO_MAX_ROWS = 100;
const RATE = 50;

interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  samples: number;
}

function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : NaN);
  return { p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), max: round(s.at(-1) ?? NaN), samples: s.length };
}

const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The umbracoCacheInstruction table as Umbraco's servers see it: a row per published envelope,
 * visible from the moment its publish returned, in id order. Reading it costs one SQL query per
 * poll, so the simulation keeps the rows in memory and counts queries instead of touching Azurite.
 */
class InstructionTable {
  private readonly rows = new Map<number, { id: string }>();
  insert(sequence: number, id: string): void {
    this.rows.set(sequence, { id });
  }
  row(sequence: number): { id: string } | undefined {
    return this.rows.get(sequence);
  }
}

/** One Umbraco server: every 5 s, `SELECT TOP 100 ... WHERE id > @lastId ORDER BY id`. */
class UmbracoPoller {
  last = 0;
  applied = 0;
  queries = 0;
  private timer?: NodeJS.Timeout;
  constructor(
    private readonly table: InstructionTable,
    /** Returns whether the row counts (warm-up rows do not). */
    private readonly onApplied: (id: string) => boolean,
  ) {}

  start(from: number): void {
    this.last = from;
    // Servers start at different times: spread the first poll over one interval.
    this.timer = setTimeout(() => this.poll(), Math.random() * UMBRACO_INTERVAL_MS);
  }

  private poll(): void {
    this.queries++;
    for (let rows = 0; rows < UMBRACO_MAX_ROWS; rows++) {
      const row = this.table.row(this.last + 1);
      if (!row) break;
      if (this.onApplied(row.id)) this.applied++;
      this.last++;
    }
    this.timer = setTimeout(() => this.poll(), UMBRACO_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

interface RunResult {
  frontEnds: number;
  latency: {
    rate: number;
    seconds: number;
    published: number;
    push: Percentiles & { appliedOnAll: boolean };
    umbracoBaseline: Percentiles & { appliedOfExpected: string };
  };
  throughput: {
    seconds: number;
    push: { instructionsPerSecond: number; instructions: number };
    umbracoBaseline: { instructionsPerSecond: number };
  };
  requestsPerInstruction: {
    publish: number;
    fanOut: number;
    frontEndsPerFrontEnd: number;
    pushPerFrontEnd: number;
    umbracoBaselinePerFrontEnd: number;
  };
}

async function runOne(opts: CacheBenchOptions, n: number, quick: boolean, log: (l: string) => void): Promise<RunResult> {
  const suffix = randomUUID().slice(0, 8);
  const config = parseCacheConfig(
    { channels: [{ name: 'production' }], instructionsQueue: `bench-ci-${suffix}`, journalContainer: `bench-cj-${suffix}`, frontEndQueuePrefix: `b${suffix.slice(0, 6)}`, storage: { connectionString: opts.azurite.connectionString } },
    'bench.cache',
  );
  const ctx = createCacheContext(config);
  const publisher = new CachePublisher(ctx);
  const fanOut = new CacheFanOut(ctx);
  const started = new Map<string, number>();
  const table = new InstructionTable();
  const warmIds = new Set<string>();
  // Warm-up publishes are counted apart so they never mix into the figures.
  const measuring = (id: string) => !warmIds.has(id);
  const pushLatencies: number[] = [];
  const baseLatencies: number[] = [];
  const pushApplied = new Map<string, number>();
  const record = (bucket: number[], id: string) => {
    const t = started.get(id);
    if (t !== undefined) bucket.push(performance.now() - t);
  };

  await ctx.journal.ensureContainer();
  await ctx.ensureQueue(config.instructionsQueue);
  const subscribers: CacheSubscriber[] = [];
  const pollers: UmbracoPoller[] = [];
  const errors: string[] = [];
  let appliedCount = 0;
  let warmApplied = 0;
  for (let i = 0; i < n; i++) {
    const s = new CacheSubscriber({
      context: ctx,
      channel: 'production',
      instance: `bench-${i}`,
      store: new MemorySequenceStore(),
      onError: (err, where) => void errors.push(`front-end ${where}: ${err.message}`),
      apply: (e) => {
        if (!measuring(e.id)) return void warmApplied++;
        appliedCount++;
        pushApplied.set(e.id, (pushApplied.get(e.id) ?? 0) + 1);
        record(pushLatencies, e.id);
      },
    });
    await roles.run('frontend', () => s.start());
    subscribers.push(s);
    const p = new UmbracoPoller(table, (id) => {
      if (!measuring(id)) return false;
      record(baseLatencies, id);
      return true;
    });
    p.start(0);
    pollers.push(p);
  }
  const pump = new InstructionQueuePump(ctx.queueService.getQueueClient(config.instructionsQueue), (input, meta) => fanOut.handle(input, { dequeueCount: meta.dequeueCount }), {
    batchSize: 16,
    maxPollingIntervalMs: 2_000,
    onError: (err) => errors.push(`fan-out: ${(err as Error).message}`),
  });
  roles.run('fanout', () => pump.start());

  const snapshot = () => ({ ...requests, baseline: pollers.reduce((a, p) => a + p.queries, 0) });
  const publishOne = async (i: number) => {
    const id = randomUUID();
    if (i < 0) warmIds.add(id);
    else started.set(id, performance.now());
    const result = await roles.run('publish', () => publisher.publish({ id, instructions: [{ refresher: 'content', type: 'RefreshByIds', ids: [i] }] }, { channel: 'production', origin: 'bench' }));
    table.insert(result.sequence, id);
  };
  const minApplied = () => Math.min(...pollers.map((p) => p.applied));

  // Warm-up (not measured): JIT, connection pools, Azurite's first requests.
  const warmEnd = performance.now() + (quick ? 1_500 : 3_000);
  const warm: Promise<void>[] = [];
  for (let i = 0; performance.now() < warmEnd; i++) {
    warm.push(publishOne(-1 - i));
    await sleep(1000 / RATE);
  }
  await Promise.all(warm);
  const warmDeadline = performance.now() + 20_000;
  while (warmApplied < warm.length * n && performance.now() < warmDeadline) await sleep(20);

  // Latency at a fixed rate: publishes fire on schedule, each awaited on its own.
  const seconds = quick ? 3 : 6;
  const total = RATE * seconds;
  const before = snapshot();
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inflight.push(publishOne(i));
  }
  await Promise.all(inflight);
  const deadline = performance.now() + 30_000;
  while (appliedCount < total * n && performance.now() < deadline) await sleep(20);
  const pushDone = appliedCount >= total * n;
  // The pollers drain at most 100 rows per 5 s each: wait for them (bounded) so their latencies are complete.
  const baseDeadline = performance.now() + 30_000;
  while (minApplied() < total && performance.now() < baseDeadline) await sleep(50);
  const after = snapshot();
  const pushLatency = percentiles(pushLatencies);
  const baseLatency = percentiles(baseLatencies);
  const baseApplied = pollers.reduce((a, p) => a + p.applied, 0);
  const perFe = (role: Role) => round((after[role] - before[role]) / (total * n), 2);
  void baseApplied;
  const requestsPerInstruction = {
    publish: round((after.publish - before.publish) / total, 2),
    fanOut: round((after.fanout - before.fanout) / total, 2),
    frontEndsPerFrontEnd: perFe('frontend'),
    pushPerFrontEnd: round((after.fanout - before.fanout + after.frontend - before.frontend) / (total * n), 2),
    umbracoBaselinePerFrontEnd: round((after.baseline - before.baseline) / (total * n), 3),
  };
  const duplicates = [...pushApplied.values()].filter((c) => c > n).length;
  if (duplicates > 0) throw new Error(`bench: ${duplicates} instructions applied more often than once per front-end`);
  log(`cache bench: ${n} front-ends: push p99 ${pushLatency.p99} ms over ${pushLatency.samples} samples, baseline p99 ${baseLatency.p99} ms`);

  // Sustained throughput: closed loop, at most 8 publishes in flight and 200 unapplied.
  const tSeconds = quick ? 3 : 6;
  const startCount = appliedCount;
  const baseStart = minApplied();
  const tp0 = performance.now();
  let published = 0;
  const workers = Array.from({ length: 8 }, async () => {
    while (performance.now() - tp0 < tSeconds * 1000) {
      if (published * n - (appliedCount - startCount) > 200 * n) {
        await sleep(5);
        continue;
      }
      published++;
      await publishOne(published);
    }
  });
  await Promise.all(workers);
  const tpDeadline = performance.now() + 60_000;
  while (appliedCount - startCount < published * n && performance.now() < tpDeadline) await sleep(10);
  const tpElapsed = (performance.now() - tp0) / 1000;
  const pushRate = round((appliedCount - startCount) / n / tpElapsed, 1);
  const baseRate = round((minApplied() - baseStart) / tpElapsed, 1);

  if (errors.length) log(`cache bench: ${n} front-ends: ${errors.length} reported errors, first: ${errors.slice(0, 3).join(' | ')}`);
  await pump.stop();
  for (const p of pollers) p.stop();
  await Promise.all(subscribers.map((s) => s.stop({ unregister: true })));
  await ctx.queueService.getQueueClient(config.instructionsQueue).deleteIfExists();
  await ctx.journal.container.deleteIfExists();

  return {
    frontEnds: n,
    latency: {
      rate: RATE,
      seconds,
      published: total,
      push: { ...pushLatency, appliedOnAll: pushDone },
      umbracoBaseline: { ...baseLatency, appliedOfExpected: `${baseApplied}/${total * n}` },
    },
    throughput: { seconds: round(tpElapsed, 1), push: { instructionsPerSecond: pushRate, instructions: published }, umbracoBaseline: { instructionsPerSecond: baseRate } },
    requestsPerInstruction,
  };
}

export function cacheMarkdown(runs: RunResult[], quick: boolean): string {
  const lines = [
    `Cache channel on Azurite (${quick ? 'quick' : 'full'} run; ${RATE} instructions/s for the latency columns; baseline = Umbraco-style poller: 5 s interval, ≤ 100 rows per poll, fed by the same publishes).`,
    '',
    '| front-ends | push p50 / p95 / p99 (ms) | baseline p50 / p95 / p99 (ms) | push sustained (instr/s) | baseline sustained (instr/s) | push requests / instr / front-end | baseline requests / instr / front-end | publish requests / instr |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of runs) {
    const p = r.latency.push;
    const b = r.latency.umbracoBaseline;
    lines.push(
      `| ${r.frontEnds} | ${p.p50} / ${p.p95} / ${p.p99}${r.latency.push.appliedOnAll ? '' : ' (incomplete)'} | ${b.p50} / ${b.p95} / ${b.p99}${b.appliedOfExpected.split('/')[0] === b.appliedOfExpected.split('/')[1] ? '' : ` (applied ${b.appliedOfExpected})`} | ${r.throughput.push.instructionsPerSecond} | ${r.throughput.umbracoBaseline.instructionsPerSecond} | ${r.requestsPerInstruction.pushPerFrontEnd} | ${r.requestsPerInstruction.umbracoBaselinePerFrontEnd} | ${r.requestsPerInstruction.publish} |`,
    );
  }
  lines.push(
    '',
    "Push requests per instruction per front-end = fan-out requests (notice receive/delete, journal read, id check, one send per front-end per batch, queue listing amortised) plus front-end requests (receive, delete, heartbeat, probes), divided by instructions × front-ends. The baseline is Umbraco's DatabaseServerMessenger: each server runs one SQL query (`TOP 100 ... WHERE id > lastId`) every 5 s, so its cost is one query per server per 5 s whatever the load, but it cannot take more than 100 rows per 5 s (20 rows/s): at 50/s its backlog, and so its latency, grows for as long as the load lasts. Its table is simulated in memory, fed by the same publishes, so it adds no load to Azurite.",
  );
  return lines.join('\n');
}

export async function runCacheBench(opts: CacheBenchOptions): Promise<{ name: 'cache'; results: unknown; markdown: string }> {
  const quick = opts.quick ?? false;
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  countRequests();
  const runs: RunResult[] = [];
  for (const n of opts.frontEnds ?? [1, 10, 50]) runs.push(await runOne(opts, n, quick, log));
  const results = { generatedAt: new Date().toISOString(), quick, node: process.version, cpus: cpus().length, runs };
  const root = path.resolve(__dirname, '..', ...(path.basename(path.resolve(__dirname, '..')) === 'dist' ? ['..'] : []));
  const resultsFile = opts.resultsFile ?? path.join(root, 'bench', 'results', 'cache.json');
  mkdirSync(path.dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  const markdown = cacheMarkdown(runs, quick);
  if (opts.markdownFile) writeFileSync(opts.markdownFile, `${markdown}\n`);
  return { name: 'cache', results, markdown };
}

/**
 * Cache channel bench: a load sweep. Offered rates (default 25 … 800 envelopes/s) from 4 concurrent
 * publishers, at 10 front-ends and at 50 (50 stops at the first rate it cannot carry); each step on
 * a fresh channel, run 3 times. Per step: sustained rate, publish-to-applied latency on every
 * front-end (p50/p95/p99), storage requests per envelope by role, and an Umbraco-style baseline fed
 * by the same publishes. Writes bench/results/cache.json and bench/results/cache-sweep.svg;
 * bench/run.ts puts the table (with the picture) in bench/README.md.
 *
 * Durations are configurable for development on a busy machine (request counts are deterministic
 * enough to check there; latencies are not): CACHE_BENCH_SECONDS (per step, default 8),
 * CACHE_BENCH_REPS (3), CACHE_BENCH_RATES ("25,50,100,200,400,800"), CACHE_BENCH_FRONT_ENDS ("10,50"),
 * CACHE_BENCH_PUBLISHER_PROCESSES (1: the 4 publishers call one publishing process, as 4 servers call
 * one instance of the HTTP function; 4: one process each, contending across processes).
 *
 * Azurite caveat: with --inMemoryPersistence, Azurite's queue GC stalls the whole emulator for tens
 * of seconds once some ten thousand messages have come and gone. Start Azurite with a --location.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseCacheConfig } from '../shared/cache/cacheConfig';
import { createCacheContext, type CacheContext } from '../shared/cache/CacheContext';
import { CacheFanOut } from '../shared/cache/CacheFanOut';
import { CachePublisher } from '../shared/cache/CachePublisher';
import { CacheSubscriber } from '../shared/cache/CacheSubscriber';
import { InstructionQueuePump } from '../shared/cache/InstructionQueuePump';
import { MemorySequenceStore } from '../shared/cache/SequenceStore';
import { readHostOptions } from '../shared/devhost/hostJson';

/** The app root (host.json, bench/results), from bench/ or from its compiled copy in dist/bench. */
export const APP_ROOT = path.resolve(__dirname, '..', ...(path.basename(path.resolve(__dirname, '..')) === 'dist' ? ['..'] : []));

export interface CacheBenchOptions {
  azurite: { connectionString: string; blobEndpoint: string; queueEndpoint: string };
  quick?: boolean;
  /** Default: bench/results/cache.json under the app root (the picture goes beside it). */
  resultsFile?: string;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export type Role = 'publish' | 'fanout' | 'frontend';
export const roles = new AsyncLocalStorage<Role>();
export const requests: Record<Role, number> = { publish: 0, fanout: 0, frontend: 0 };
let subscribed = false;

/** Counts every HTTP request the storage SDK sends, by the role whose async context sent it. */
export function countRequests(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('http.client.request.start', () => {
    const role = roles.getStore();
    if (role) requests[role]++;
  });
}

const PUBLISHERS = 4;
export const UMBRACO_INTERVAL_MS = 5_000;
const UMBRACO_MAX_ROWS = 100;
/** A step "carries" its offered rate when the sustained rate is at least this share of it. */
const CARRIES = 0.9;

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  samples: number;
}

export function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : NaN);
  return { p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), max: round(s.at(-1) ?? NaN), samples: s.length };
}

export const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BaselineResult {
  latency: Percentiles;
  sustained: number;
  /** SQL queries per envelope per server while the load lasts (one per 5 s per server). */
  requestsPerEnvelopePerServer: number;
}

/**
 * Umbraco's DatabaseServerMessenger on the same publishes, in virtual time: each server runs
 * `SELECT TOP 100 … WHERE id > @lastId ORDER BY id` every 5 s (first poll at a random phase); a
 * row is visible from the moment its publish returned. Pure apart from the random phases.
 */
export function simulateUmbracoBaseline(rows: Array<{ start: number; inserted: number }>, servers: number, t0: number, seconds: number, random = Math.random): BaselineResult {
  const latencies: number[] = [];
  // A poll that takes its full 100 rows means the poller is the limit: it then drains 100 rows per 5 s.
  let fullPolls = 0;
  for (let s = 0; s < servers; s++) {
    let next = 0;
    let full = 0;
    for (let poll = t0 + random() * UMBRACO_INTERVAL_MS; next < rows.length; poll += UMBRACO_INTERVAL_MS) {
      let taken = 0;
      for (; taken < UMBRACO_MAX_ROWS && next < rows.length && rows[next]!.inserted <= poll; taken++, next++) latencies.push(poll - rows[next]!.start);
      if (taken === UMBRACO_MAX_ROWS) full++;
    }
    fullPolls = Math.max(fullPolls, full);
  }
  return {
    latency: percentiles(latencies),
    sustained: round(rows.length / Math.max((fullPolls * UMBRACO_INTERVAL_MS) / 1000, seconds), 1),
    requestsPerEnvelopePerServer: round(seconds / (UMBRACO_INTERVAL_MS / 1000) / Math.max(rows.length, 1), 4),
  };
}

export interface StepResult {
  frontEnds: number;
  offered: number;
  rep: number;
  seconds: number;
  published: number;
  /** Envelopes per second applied on every front-end: envelopes over the span from the first apply to the last (plus one interval). */
  sustained: number;
  complete: boolean;
  push: Percentiles;
  requestsPerEnvelope: { publish: number; fanOut: number; perFrontEnd: number };
  umbracoBaseline: BaselineResult;
  errors: number;
}

interface StepOptions {
  connectionString: string;
  frontEnds: number;
  rate: number;
  seconds: number;
  publisherProcesses: number;
}

async function runStep(o: StepOptions, rep: number): Promise<StepResult> {
  const suffix = randomUUID().slice(0, 8);
  const config = parseCacheConfig(
    {
      channels: [{ name: 'production' }],
      instructionsQueue: `bench-ci-${suffix}`,
      journalContainer: `bench-cj-${suffix}`,
      frontEndQueuePrefix: `b${suffix.slice(0, 6)}`,
      storage: { connectionString: o.connectionString },
    },
    'bench.cache',
  );
  const ctx = createCacheContext(config);
  const processes: CacheContext[] = Array.from({ length: o.publisherProcesses }, () => createCacheContext(config));
  const publishers = processes.map((p) => new CachePublisher(p));
  const fanOut = new CacheFanOut(ctx);
  const started = new Map<string, number>();
  const warmIds = new Set<string>();
  const latencies: number[] = [];
  const appliedPerId = new Map<string, number>();
  let applied = 0;
  let warmApplied = 0;
  // Per front-end: the span between two front-ends' applies also holds their latency difference, which is not slowness.
  const firstApplyAt: number[] = new Array<number>(o.frontEnds).fill(0);
  const lastApplyAt: number[] = new Array<number>(o.frontEnds).fill(0);
  const appliedBy: number[] = new Array<number>(o.frontEnds).fill(0);
  const errors: string[] = [];

  await ctx.journal.ensureContainer();
  await ctx.ensureQueue(config.instructionsQueue);
  const subscribers: CacheSubscriber[] = [];
  for (let i = 0; i < o.frontEnds; i++) {
    const s = new CacheSubscriber({
      context: ctx,
      channel: 'production',
      instance: `bench-${i}`,
      store: new MemorySequenceStore(),
      onError: (err, where) => void errors.push(`front-end ${where}: ${err.message}`),
      apply: (e) => {
        if (warmIds.has(e.id)) return void warmApplied++;
        const t = started.get(e.id);
        if (t === undefined) return;
        const now = performance.now();
        latencies.push(now - t);
        if (appliedBy[i] === 0) firstApplyAt[i] = now;
        lastApplyAt[i] = now;
        appliedBy[i] = (appliedBy[i] ?? 0) + 1;
        applied++;
        appliedPerId.set(e.id, (appliedPerId.get(e.id) ?? 0) + 1);
      },
    });
    await roles.run('frontend', () => s.start());
    subscribers.push(s);
  }
  // The Functions host's queue settings of this app, read from its host.json (batchSize, maxPollingInterval).
  const queues = readHostOptions(APP_ROOT).queues;
  const pump = new InstructionQueuePump(ctx.queueService.getQueueClient(config.instructionsQueue), (input, meta) => fanOut.handle(input, { dequeueCount: meta.dequeueCount }), {
    batchSize: queues.batchSize,
    maxPollingIntervalInMs: queues.maxPollingIntervalMs,
    onError: (err) => errors.push(`fan-out: ${(err as Error).message}`),
  });
  roles.run('fanout', () => pump.start());

  const rows: Array<{ sequence: number; start: number; inserted: number }> = [];
  const publishOne = async (k: number, warm: boolean) => {
    const id = randomUUID();
    const t = performance.now();
    if (warm) warmIds.add(id);
    else started.set(id, t);
    const publisher = publishers[(k % PUBLISHERS) % publishers.length]!;
    const result = await roles.run('publish', () =>
      publisher.publish({ id, instructions: [{ refresher: 'content', type: 'RefreshByIds', ids: [k] }] }, { channel: 'production', origin: `bench-publisher-${k % PUBLISHERS}` }),
    );
    if (!warm) rows.push({ sequence: result.sequence, start: t, inserted: performance.now() });
  };
  /** Open loop: publishes fire on schedule, round-robin over the 4 publishers, each awaited on its own. */
  const offer = async (rate: number, seconds: number, warm: boolean) => {
    const total = Math.round(rate * seconds);
    const t0 = performance.now();
    const inflight: Promise<void>[] = [];
    for (let k = 0; k < total; k++) {
      const wait = t0 + (k * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      inflight.push(publishOne(k, warm).catch((err: unknown) => void errors.push(`publish: ${(err as Error).message}`)));
    }
    await Promise.all(inflight);
    return { total, t0 };
  };

  // Warm-up (not measured): connections, JIT, the publishers' id windows.
  const warm = await offer(Math.min(o.rate, 50), 1, true);
  const warmDeadline = performance.now() + 15_000;
  while (warmApplied < warm.total * o.frontEnds && performance.now() < warmDeadline) await sleep(20);

  const before = { ...requests };
  const { total, t0 } = await offer(o.rate, o.seconds, false);
  const drainDeadline = performance.now() + Math.max(10_000, o.seconds * 1000);
  while (applied < total * o.frontEnds && performance.now() < drainDeadline) await sleep(20);
  const after = { ...requests };
  const complete = applied >= total * o.frontEnds;
  // A front-end that keeps up applies over the publishing time, shifted by its latency; a backlog stretches the span.
  const stoppedAt = performance.now();
  const rates = appliedBy.map((n, i) => (n === 0 ? 0 : n / (((n >= total ? (lastApplyAt[i] ?? 0) : stoppedAt) - (firstApplyAt[i] ?? 0)) / 1000 + 1 / o.rate)));

  await pump.stop();
  await Promise.all(subscribers.map((s) => s.stop({ unregister: true })));
  await ctx.queueService.getQueueClient(config.instructionsQueue).deleteIfExists();
  await ctx.journal.container.deleteIfExists();

  const duplicates = [...appliedPerId.values()].filter((c) => c > o.frontEnds).length;
  if (duplicates > 0) throw new Error(`bench: ${duplicates} envelopes applied more often than once per front-end`);
  rows.sort((a, b) => a.sequence - b.sequence);
  const perEnvelope = (role: Role, divisor = 1) => round((after[role] - before[role]) / (total * divisor), 3);
  return {
    frontEnds: o.frontEnds,
    offered: o.rate,
    rep,
    seconds: o.seconds,
    published: total,
    sustained: round(rates.reduce((a, b) => a + b, 0) / o.frontEnds, 1),
    complete,
    push: percentiles(latencies),
    requestsPerEnvelope: { publish: perEnvelope('publish'), fanOut: perEnvelope('fanout'), perFrontEnd: perEnvelope('frontend', o.frontEnds) },
    umbracoBaseline: simulateUmbracoBaseline(rows, o.frontEnds, t0, o.seconds),
    errors: errors.length,
  };
}

interface Spread {
  min: number;
  median: number;
  max: number;
}

function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  return { min: s[0] ?? NaN, median: s[Math.floor((s.length - 1) / 2)] ?? NaN, max: s.at(-1) ?? NaN };
}

export interface SweepRow {
  frontEnds: number;
  offered: number;
  runs: number;
  sustained: Spread;
  carried: boolean;
  p50: Spread;
  p95: Spread;
  p99: Spread;
  requestsPerEnvelope: { publish: number; fanOut: number; perFrontEnd: number };
  umbracoBaseline: { p50: number; p99: number; sustained: number; requestsPerEnvelopePerServer: number };
}

export function summarise(steps: StepResult[]): SweepRow {
  const median = (f: (s: StepResult) => number) => spread(steps.map(f)).median;
  const sustained = spread(steps.map((s) => s.sustained));
  return {
    frontEnds: steps[0]!.frontEnds,
    offered: steps[0]!.offered,
    runs: steps.length,
    sustained,
    carried: sustained.median >= CARRIES * steps[0]!.offered && steps.every((s) => s.complete),
    p50: spread(steps.map((s) => s.push.p50)),
    p95: spread(steps.map((s) => s.push.p95)),
    p99: spread(steps.map((s) => s.push.p99)),
    requestsPerEnvelope: { publish: median((s) => s.requestsPerEnvelope.publish), fanOut: median((s) => s.requestsPerEnvelope.fanOut), perFrontEnd: median((s) => s.requestsPerEnvelope.perFrontEnd) },
    umbracoBaseline: {
      p50: median((s) => s.umbracoBaseline.latency.p50),
      p99: median((s) => s.umbracoBaseline.latency.p99),
      sustained: median((s) => s.umbracoBaseline.sustained),
      requestsPerEnvelopePerServer: median((s) => s.umbracoBaseline.requestsPerEnvelopePerServer),
    },
  };
}

const fmt = (s: Spread) => `${s.median} (${s.min}–${s.max})`;

export function cacheMarkdown(rows: SweepRow[], meta: { quick: boolean; seconds: number; reps: number; publisherProcesses: number; cpus: number; loadAverage: number }, picture: string): string {
  const lines = [
    `Load sweep on Azurite (${meta.quick ? 'quick' : 'full'} run; ${meta.cpus} cores, load average ${meta.loadAverage} when it started): each step offers a fixed rate for ${meta.seconds} s from ${PUBLISHERS} concurrent publishers (through ${meta.publisherProcesses} publishing process${meta.publisherProcesses > 1 ? 'es' : ''}) on a fresh channel, ${meta.reps} run${meta.reps > 1 ? 's' : ''} per step: median (min–max). Latency is publish call to applied, on every front-end; sustained is each front-end's apply rate over its own first-to-last apply, averaged. 50 front-ends stop at the first rate they cannot carry (sustained < ${CARRIES * 100} % of offered).`,
    '',
    `![p99 latency against offered load](${picture})`,
    '',
    '| front-ends | offered /s | sustained /s | p50 ms | p95 ms | p99 ms | requests / envelope: publish / fan-out / per front-end | baseline p50 / p99 ms | baseline sustained /s |',
    '|---:|---:|---:|---:|---:|---:|---|---:|---:|',
  ];
  for (const r of rows) {
    const q = r.requestsPerEnvelope;
    lines.push(
      `| ${r.frontEnds} | ${r.offered} | ${fmt(r.sustained)}${r.carried ? '' : ' ✗'} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${q.publish} / ${q.fanOut} / ${q.perFrontEnd} | ${r.umbracoBaseline.p50} / ${r.umbracoBaseline.p99} | ${r.umbracoBaseline.sustained} |`,
    );
  }
  lines.push(
    '',
    '✗: the step did not carry its offered rate (backlog; latency then measures the queue, not the channel).',
    "Requests per envelope: every storage request of the role during the step (including idle polls, heartbeats and the drain), divided by envelopes (per front-end: by envelopes × front-ends); counted by role from the SDK's HTTP requests. The baseline is Umbraco's DatabaseServerMessenger simulated in virtual time on the same publishes: each server runs one SQL query (`TOP 100 … WHERE id > lastId`) every 5 s, so it costs one query per server per 5 s whatever the load but cannot take more than 20 rows/s; it adds no load to Azurite.",
  );
  return lines.join('\n');
}

/** The sweep as an SVG line chart: p99 (median, min–max whiskers) against offered load, log–log, one line per front-end count, the baseline dashed. */
export function sweepSvg(rows: SweepRow[]): string {
  const W = 720;
  const H = 400;
  const m = { l: 70, r: 170, t: 30, b: 50 };
  const rates = [...new Set(rows.map((r) => r.offered))].sort((a, b) => a - b);
  const ys = rows.flatMap((r) => [r.p99.min, r.p99.max, r.umbracoBaseline.p99]).filter((v) => Number.isFinite(v) && v > 0);
  const xMin = Math.log10(Math.min(...rates) / 1.3);
  const xMax = Math.log10(Math.max(...rates) * 1.3);
  const yMin = Math.floor(Math.log10(Math.max(1, Math.min(...ys))));
  const yMax = Math.ceil(Math.log10(Math.max(10, ...ys)));
  const x = (v: number) => m.l + ((Math.log10(v) - xMin) / (xMax - xMin)) * (W - m.l - m.r);
  const y = (v: number) => H - m.b - ((Math.log10(Math.max(v, 10 ** yMin)) - yMin) / (yMax - yMin || 1)) * (H - m.t - m.b);
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.l}" y="18" font-size="14">p99 publish-to-applied latency against offered load (log–log)</text>`,
  ];
  for (let e = yMin; e <= yMax; e++) {
    const v = 10 ** e;
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`, `<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`);
  }
  for (const r of rates) out.push(`<line x1="${x(r)}" x2="${x(r)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/>`, `<text x="${x(r)}" y="${H - m.b + 16}" text-anchor="middle">${r}</text>`);
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">offered envelopes/s</text>`);
  const series = [...new Set(rows.map((r) => r.frontEnds))].sort((a, b) => a - b);
  series.forEach((n, i) => {
    const c = colours[i % colours.length]!;
    const mine = rows.filter((r) => r.frontEnds === n).sort((a, b) => a.offered - b.offered);
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${mine.map((r) => `${x(r.offered)},${y(r.p99.median)}`).join(' ')}"/>`);
    for (const r of mine) {
      out.push(`<line x1="${x(r.offered)}" x2="${x(r.offered)}" y1="${y(r.p99.min)}" y2="${y(r.p99.max)}" stroke="${c}"/>`);
      out.push(
        r.carried
          ? `<circle cx="${x(r.offered)}" cy="${y(r.p99.median)}" r="3.5" fill="${c}"/>`
          : `<text x="${x(r.offered)}" y="${y(r.p99.median) + 4}" text-anchor="middle" fill="${c}" font-weight="bold">✗</text>`,
      );
    }
    out.push(
      `<line x1="${W - m.r + 15}" x2="${W - m.r + 40}" y1="${m.t + 20 * i + 10}" y2="${m.t + 20 * i + 10}" stroke="${c}" stroke-width="2"/>`,
      `<text x="${W - m.r + 46}" y="${m.t + 20 * i + 14}">${n} front-ends</text>`,
    );
  });
  // The baseline hardly depends on the front-end count (one poll per server per 5 s): drawn once, from the first series.
  const base = rows.filter((r) => r.frontEnds === series[0]).sort((a, b) => a.offered - b.offered);
  const bi = series.length;
  out.push(`<polyline fill="none" stroke="#777" stroke-width="2" stroke-dasharray="6 4" points="${base.map((r) => `${x(r.offered)},${y(r.umbracoBaseline.p99)}`).join(' ')}"/>`);
  out.push(
    `<line x1="${W - m.r + 15}" x2="${W - m.r + 40}" y1="${m.t + 20 * bi + 10}" y2="${m.t + 20 * bi + 10}" stroke="#777" stroke-width="2" stroke-dasharray="6 4"/>`,
    `<text x="${W - m.r + 46}" y="${m.t + 20 * bi + 14}">Umbraco-style poll</text>`,
  );
  out.push(`<text x="${W - m.r + 15}" y="${m.t + 20 * bi + 40}">✗ not carried</text>`, `<text x="${W - m.r + 15}" y="${m.t + 20 * bi + 58}">bars: min–max of runs</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function listOf(raw: string | undefined, fallback: number[]): number[] {
  if (!raw) return fallback;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v) || v <= 0)) throw new Error(`bench: "${raw}" is not a list of positive numbers`);
  return values;
}

export async function runCacheBench(opts: CacheBenchOptions): Promise<{ name: 'cache'; results: unknown; markdown: string; custom: boolean }> {
  const quick = opts.quick ?? false;
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const seconds = listOf(env.CACHE_BENCH_SECONDS, [quick ? 2 : 8])[0]!;
  const reps = listOf(env.CACHE_BENCH_REPS, [quick ? 1 : 3])[0]!;
  const rates = listOf(env.CACHE_BENCH_RATES, quick ? [25, 100, 400] : [25, 50, 100, 200, 400, 800]);
  const frontEnds = listOf(env.CACHE_BENCH_FRONT_ENDS, quick ? [10] : [10, 50]);
  const publisherProcesses = listOf(env.CACHE_BENCH_PUBLISHER_PROCESSES, [1])[0]!;
  countRequests();
  // Latencies only mean something on an otherwise idle machine: the load at the start goes into the report.
  const loadAverage = round(loadavg()[0]!, 2);
  const began = performance.now();
  const steps: StepResult[] = [];
  const rows: SweepRow[] = [];
  let done = 0;
  const planned = frontEnds.length * rates.length * reps;
  // Rates outer: both front-end counts meet Azurite at the same age for the same rate (its on-disk
  // store slows down as messages come and go). Past the first count's full sweep, a count that
  // cannot carry a rate is not offered more.
  const stopped = new Set<number>();
  for (const rate of rates) {
    for (const n of frontEnds) {
      if (stopped.has(n)) continue;
      const mine: StepResult[] = [];
      for (let rep = 1; rep <= reps; rep++) {
        const step = await runStep({ connectionString: opts.azurite.connectionString, frontEnds: n, rate, seconds, publisherProcesses }, rep);
        mine.push(step);
        const q = step.requestsPerEnvelope;
        log(
          `cache bench [${++done}/≤${planned}, ${Math.round((performance.now() - began) / 1000)} s] ${n} front-ends @ ${rate}/s run ${rep}: sustained ${step.sustained}/s${step.complete ? '' : ' (backlog)'}, p50/p95/p99 ${step.push.p50}/${step.push.p95}/${step.push.p99} ms, requests/envelope publish ${q.publish} fan-out ${q.fanOut} per front-end ${q.perFrontEnd}${step.errors ? `, ${step.errors} errors` : ''}`,
        );
      }
      steps.push(...mine);
      const row = summarise(mine);
      rows.push(row);
      if (n !== frontEnds[0] && !row.carried) stopped.add(n);
    }
  }
  rows.sort((a, b) => a.frontEnds - b.frontEnds || a.offered - b.offered);
  const root = APP_ROOT;
  // A quick or customised run never replaces the committed figures.
  const custom = quick || ['CACHE_BENCH_SECONDS', 'CACHE_BENCH_REPS', 'CACHE_BENCH_RATES', 'CACHE_BENCH_FRONT_ENDS', 'CACHE_BENCH_PUBLISHER_PROCESSES'].some((k) => env[k] !== undefined);
  const resultsFile = opts.resultsFile ?? (custom ? path.join(tmpdir(), `ringkeeper-bench-cache-${process.pid}`, 'cache.json') : path.join(root, 'bench', 'results', 'cache.json'));
  const pictureFile = path.join(path.dirname(resultsFile), 'cache-sweep.svg');
  const meta = { quick, seconds, reps, publisherProcesses, cpus: cpus().length, loadAverage };
  const results = { generatedAt: new Date().toISOString(), node: process.version, ...meta, publishers: PUBLISHERS, sweep: rows, steps };
  mkdirSync(path.dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(pictureFile, sweepSvg(rows));
  log(`cache bench: ${steps.length} steps in ${Math.round((performance.now() - began) / 1000)} s; ${path.relative(root, resultsFile)}, ${path.relative(root, pictureFile)}`);
  return { name: 'cache', results, markdown: cacheMarkdown(rows, meta, `results/${path.basename(pictureFile)}`), custom };
}

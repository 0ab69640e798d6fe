/**
 * .NET front-ends on the cache channel, for the test scenarios (test/dotnet) and the bench (bench/cache.ts): builds
 * test/dotnet/FrontEnd (with clients/dotnet) once per run under the interop suite's build lock, and runs each
 * front-end as a process driven by JSON lines on stdin, its refresher calls and answers read as JSON lines from
 * stdout. No vitest here: the bench imports it from dist/ (tsconfig includes this file).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { runProcess } from './runProcess';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The repository root, from test/support or from its compiled copy in dist/test/support. */
export const ROOT = path.resolve(__dirname, '..', '..', ...(path.basename(path.resolve(__dirname, '..', '..')) === 'dist' ? ['..'] : []));
const DIR = path.join(ROOT, 'test', 'dotnet');
// gitignored; holds the interop suite's build lock and stamp (shared with test/interop/harness.ts)
const STATE_DIR = path.join(ROOT, 'test', 'interop', 'dotnet', 'bin');

// dotnet presence: the interop suite skips with a reason without it (a failure under CI=true).
export interface DotnetPresence {
  available: boolean;
  reason?: string;
  version?: string;
}

let presence: DotnetPresence | undefined;
export function dotnetPresence(): DotnetPresence {
  if (presence) return presence;
  const r = spawnSync('dotnet', ['--version'], { encoding: 'utf8', env: dotnetEnv() });
  presence =
    r.error || r.status !== 0
      ? { available: false, reason: r.error ? `dotnet not found on PATH (${(r.error as NodeJS.ErrnoException).code})` : `dotnet --version exited ${r.status}: ${r.stderr}` }
      : { available: true, version: r.stdout.trim() };
  return presence;
}

export function dotnetEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DOTNET_CLI_TELEMETRY_OPTOUT: '1',
    DOTNET_NOLOGO: '1',
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1',
    MSBUILDDISABLENODEREUSE: '1',
  };
}

/** A lock across the test forks and the bench (a directory: mkdir is atomic). */
export async function withLock<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  mkdirSync(STATE_DIR, { recursive: true });
  const lock = path.join(STATE_DIR, `${name}.lock`);
  // Builds queue here (interop, front-end, snippet, bench programs): minutes on a loaded 2-core machine.
  const deadline = Date.now() + 540_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock left by a killed run is stale after 5 minutes.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone */
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

const PROJECT = path.join(DIR, 'FrontEnd', 'FrontEnd.csproj');
const DLL = path.join(DIR, 'FrontEnd', 'bin', 'Release', 'net10.0', 'RingkeeperFrontEnd.dll');
const STAMP = path.join(DIR, 'FrontEnd', 'bin', 'build.stamp');

function sourceHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (['bin', 'obj', 'artifacts', 'node_modules'].includes(e.name)) continue;
      const f = path.join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else if (/\.(cs|csproj|props|targets|config|json|slnx)$/.test(e.name)) h.update(f).update(readFileSync(f));
    }
  };
  walk(DIR);
  walk(path.join(ROOT, 'clients', 'dotnet'));
  h.update(readFileSync(path.join(ROOT, 'package.json')));
  h.update(process.env.PATH ?? '');
  return h.digest('hex');
}

let built: Promise<void> | undefined;
/** Builds the front-end program (and the packages it references) when a source changed: once per run. */
export function ensureFrontEndBuilt(): Promise<void> {
  built ??= (async () => {
    const p = dotnetPresence();
    if (!p.available) throw new Error(`the .NET front-end scenarios need the .NET SDK: ${p.reason}`);
    await withLock('build', async () => {
      const hash = sourceHash();
      if (existsSync(DLL) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash) return;
      const r = await runProcess('dotnet', ['build', PROJECT, '-c', 'Release', '-nologo', '-v', 'q', '-nodeReuse:false', '-p:UseSharedCompilation=false'], { cwd: DIR, env: dotnetEnv() });
      if (r.status !== 0 || !existsSync(DLL)) throw new Error(`dotnet build of test/dotnet/FrontEnd failed (exit ${r.status}):\n${`${r.stdout}\n${r.stderr}`.slice(-6000)}`);
      mkdirSync(path.dirname(STAMP), { recursive: true });
      writeFileSync(STAMP, hash);
    });
  })();
  return built;
}

/** `Ringkeeper:Cache:*` settings of one front-end (PascalCase, TimeSpans as `hh:mm:ss.fff`). */
export type FrontEndSettings = Record<string, string | number | boolean>;

/** The settings that put a .NET front-end on a channel of `config` (the rest keep the library's defaults). */
export function channelSettings(
  config: { journalContainer: string; instructionsQueue: string; frontEndQueuePrefix: string },
  frontEnd: { channel: string; instance: string; connectionString: string; positionFile: string },
): FrontEndSettings {
  return {
    Channel: frontEnd.channel,
    Instance: frontEnd.instance,
    ConnectionString: frontEnd.connectionString,
    JournalContainer: config.journalContainer,
    InstructionsQueue: config.instructionsQueue,
    FrontEndQueuePrefix: config.frontEndQueuePrefix,
    PositionFile: frontEnd.positionFile,
  };
}

export interface RefresherCall {
  refresher: string;
  method: string;
  arg: unknown;
}
export interface DeliveredEnvelope {
  sequence: number;
  id: string;
  origin: string;
  instructions: unknown[];
}

/** One line the .NET front-end writes: `event` names it; the other fields depend on it. */
export interface FrontEndEvent {
  event: string;
  id?: string;
  op?: string;
  message?: string;
  [field: string]: unknown;
}

/** One .NET front-end process. */
export class DotnetFrontEnd {
  readonly events: any[] = [];
  /** Called as each event arrives (the bench timestamps envelopes here). */
  onEvent?: (event: FrontEndEvent) => void;
  stderr = '';
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;

  private constructor(readonly name: string) {
    this.child = spawn('dotnet', [DLL], { cwd: DIR, env: dotnetEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let pending = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
        const line = pending.slice(0, i).trim();
        pending = pending.slice(i + 1);
        if (!line) continue;
        const event = JSON.parse(line) as FrontEndEvent;
        this.events.push(event);
        this.onEvent?.(event);
      }
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** An Umbraco front-end (Ringkeeper.Umbraco): resolves with its `started` event (boot state, role). */
  static async umbraco(name: string, settings: FrontEndSettings): Promise<{ fe: DotnetFrontEnd; started: any }> {
    await ensureFrontEndBuilt();
    const fe = new DotnetFrontEnd(name);
    fe.send({ op: 'start', settings });
    return { fe, started: await fe.next('started') };
  }

  /** A plain Ringkeeper.Cache front-end printing each envelope. */
  static async plain(name: string, settings: FrontEndSettings): Promise<{ fe: DotnetFrontEnd; subscribed: any }> {
    await ensureFrontEndBuilt();
    const fe = new DotnetFrontEnd(name);
    fe.send({ op: 'subscribe', settings });
    return { fe, subscribed: await fe.next('subscribed') };
  }

  /** A one-shot .NET publisher: each element of `envelopes` is one envelope's instructions (or `{id, instructions}`), published concurrently. */
  static async publish(
    settings: FrontEndSettings,
    envelopes: Array<unknown[] | { id: string; instructions: unknown[] }>,
    origin = 'dotnet-publisher',
  ): Promise<Array<{ sequence: number; id: string; duplicate: boolean }>> {
    await ensureFrontEndBuilt();
    const fe = new DotnetFrontEnd('publisher');
    try {
      fe.send({ op: 'publish', settings, envelopes, origin });
      return (await fe.next('published')).results;
    } finally {
      fe.kill();
    }
  }

  send(command: object): void {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  get calls(): RefresherCall[] {
    return this.events.filter((e) => e.event === 'call').map(({ refresher, method, arg }) => ({ refresher, method, arg }));
  }

  get envelopes(): DeliveredEnvelope[] {
    return this.events.filter((e) => e.event === 'envelope');
  }

  /** The next event of a kind after those already consumed; fails on an `error` event or when the process ends. */
  async next(kind: string, timeoutMs = 60_000): Promise<any> {
    const seen = this.consumed.get(kind) ?? 0;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.events.filter((e) => e.event === kind);
      if (matching.length > seen) {
        this.consumed.set(kind, seen + 1);
        return matching[seen];
      }
      const error = this.events.find((e) => e.event === 'error');
      if (error) throw new Error(`${this.name}: ${error.op} failed: ${error.type}: ${error.message}\n${this.stderr.slice(-3000)}`);
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited ${this.child.exitCode} before "${kind}"\n${this.stderr.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: timed out waiting for "${kind}"\n${this.stderr.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private readonly consumed = new Map<string, number>();

  /** One back-office request: DistributedCache calls, then SendMessages at request end. */
  async request(calls: object[]): Promise<void> {
    this.send({ op: 'request', calls });
    await this.next('sent');
  }

  async burst(from: number, count: number, parallel = 16): Promise<void> {
    this.send({ op: 'burst', from, count, parallel });
    await this.next('sent', 240_000);
  }

  /** Storage requests this plain front-end has sent so far (every attempt), counted in its process. */
  async requests(): Promise<number> {
    this.send({ op: 'requests' });
    return (await this.next('requests')).count;
  }

  async role(): Promise<string> {
    this.send({ op: 'role' });
    return (await this.next('role')).role;
  }

  /** A clean stop (the host's shutdown: the lease is released, the subscriber stops). */
  async stop(options: { unregister?: boolean } = {}): Promise<void> {
    this.send({ op: 'stop', ...options });
    await this.exited;
  }

  /** A crash: nothing is released. */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  async killed(): Promise<void> {
    this.kill();
    await this.exited;
  }
}

/**
 * .NET front-ends for the cache channel scenarios: builds test/dotnet/FrontEnd (with clients/dotnet) once per run
 * under the interop suite's build lock, and runs each front-end as a process driven by JSON lines on stdin, its
 * refresher calls and answers read as JSON lines from stdout.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dotnetEnv, dotnetPresence, ROOT, withLock } from '../interop/harness';

const DIR = __dirname;
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
    await withLock('build', () => {
      const hash = sourceHash();
      if (existsSync(DLL) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash) return;
      const r = spawnSync('dotnet', ['build', PROJECT, '-c', 'Release', '-nologo', '-v', 'q', '-nodeReuse:false', '-p:UseSharedCompilation=false'],
        { cwd: DIR, env: dotnetEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      if (r.status !== 0 || !existsSync(DLL)) throw new Error(`dotnet build of test/dotnet/FrontEnd failed (exit ${r.status}):\n${`${r.stdout}\n${r.stderr}`.slice(-6000)}`);
      mkdirSync(path.dirname(STAMP), { recursive: true });
      writeFileSync(STAMP, hash);
    });
  })();
  return built;
}

/** `Ringkeeper:Cache:*` settings of one front-end (PascalCase, TimeSpans as `hh:mm:ss.fff`). */
export type FrontEndSettings = Record<string, string | number | boolean>;

export interface RefresherCall { refresher: string; method: string; arg: unknown }
export interface DeliveredEnvelope { sequence: number; id: string; origin: string; instructions: unknown[] }

/** One .NET front-end process. */
export class DotnetFrontEnd {
  readonly events: any[] = [];
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
        if (line) this.events.push(JSON.parse(line));
      }
    });
    this.child.stderr.on('data', (chunk: Buffer) => { this.stderr += chunk.toString('utf8'); });
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

  /** A one-shot .NET publisher: each element of `envelopes` is one envelope's instructions, published concurrently. */
  static async publish(settings: FrontEndSettings, envelopes: unknown[][], origin = 'dotnet-publisher'): Promise<Array<{ sequence: number; id: string; duplicate: boolean }>> {
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

/**
 * Interop harness: builds the .NET programs once per run (file lock: vitest runs files in up to two
 * forks), spawns real ASP.NET Core Data Protection (`RingkeeperInterop run`, JSON in on stdin, JSON
 * out) and the ringkeeper CLI, and makes rings in the run's Azurite.
 */
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { BlobSASPermissions, BlobServiceClient, SASProtocol } from '@azure/storage-blob';
import { azurite, uniqueName } from '../support/storage';
import { dotnetEnv, dotnetPresence, withLock } from '../support/dotnetFrontEnd';
import { runProcess } from '../support/runProcess';

export { dotnetEnv, dotnetPresence, withLock };

export const ROOT = path.resolve(__dirname, '..', '..');
const DOTNET_DIR = path.join(__dirname, 'dotnet');
const PROJECT = path.join(DOTNET_DIR, 'Interop', 'Interop.csproj');
const DLL = path.join(DOTNET_DIR, 'Interop', 'bin', 'Release', 'net10.0', 'RingkeeperInterop.dll');
const STATE_DIR = path.join(DOTNET_DIR, 'bin'); // gitignored; holds the build lock and stamp
const CLI_ENTRY = path.join(ROOT, 'dist', 'shared', 'cli', 'main.js');

// ---------------------------------------------------------------------------------------------
// dotnet presence: skipped with a reason on a laptop without it, a failure under CI=true.

const isCI = () => /^(1|true)$/i.test(process.env.CI ?? '');

/**
 * describe() for an interop scenario. Without dotnet: skipped with the reason printed, except under
 * CI=true, where the scenario runs and fails on the missing dotnet.
 */
export function interopDescribe(name: string, body: () => void): void {
  const p = dotnetPresence();
  if (!p.available && !isCI()) {
    console.warn(`[interop] skipping "${name}": ${p.reason}. Install the .NET SDK (10.x) to run real ASP.NET Core; under CI=true this is a failure.`);
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}

// ---------------------------------------------------------------------------------------------
// Build once per run.

function sourceHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name === 'bin' || e.name === 'obj') continue;
      const f = path.join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else if (/\.(cs|csproj|props|targets|config|json|snk)$/.test(e.name)) h.update(f).update(readFileSync(f));
    }
  };
  walk(DOTNET_DIR);
  h.update(process.env.PATH ?? '');
  return h.digest('hex');
}

async function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ status: number | null; output: string }> {
  const r = await runProcess(cmd, args, opts);
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

function newestMtime(dir: string, pattern: RegExp): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(f, pattern));
    else if (pattern.test(e.name)) newest = Math.max(newest, statSync(f).mtimeMs);
  }
  return newest;
}

/** Compiles ringkeeper (tsc) when dist/ is missing or older than its sources. */
async function buildRingkeeperIfStale(): Promise<void> {
  const built = existsSync(CLI_ENTRY) ? statSync(CLI_ENTRY).mtimeMs : 0;
  const sources = Math.max(newestMtime(path.join(ROOT, 'shared'), /\.ts$/), newestMtime(path.join(ROOT, 'functions'), /\.ts$/));
  if (built >= sources && built > 0) return;
  // tsc emits even with type errors elsewhere; whether the CLI exists afterwards is what counts.
  await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: ROOT });
}

async function buildDotnetIfStale(): Promise<void> {
  const stampFile = path.join(STATE_DIR, 'build.stamp');
  const hash = sourceHash();
  if (existsSync(DLL) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash) return;
  const r = await run('dotnet', ['build', PROJECT, '-c', 'Release', '-nologo', '-v', 'q', '-nodeReuse:false', '-p:UseSharedCompilation=false'], { cwd: DOTNET_DIR, env: dotnetEnv() });
  if (r.status !== 0 || !existsSync(DLL)) {
    throw new Error(`dotnet build of ${path.relative(ROOT, PROJECT)} failed (exit ${r.status}):\n${r.output.slice(-6000)}`);
  }
  writeFileSync(stampFile, hash);
}

let built: Promise<void> | undefined;
/** Builds ringkeeper (if stale) and the .NET programs (if their sources changed): once per run. */
export function ensureBuilt(): Promise<void> {
  built ??= (async () => {
    const p = dotnetPresence();
    if (!p.available) throw new Error(`the interop suite cannot run real ASP.NET Core${isCI() ? ' (CI=true: not skipped)' : ''}: ${p.reason}`);
    await withLock('build', async () => {
      await buildRingkeeperIfStale();
      await buildDotnetIfStale();
    });
  })();
  return built;
}

// ---------------------------------------------------------------------------------------------
// ASP.NET Core side.

export type Step =
  | { op: 'status'; at?: string }
  /** text (UTF-8) or dataBase64; purposes [] = the provider itself (chain: the application name only); stringForm = Protect(string). */
  | { op: 'protect'; text?: string; dataBase64?: string; stringForm?: boolean; purposes?: string[]; at?: string }
  /** payloadFrom: an earlier step's payload in the same run, "step" (same app) or "app:step"; payloadText = Unprotect(string). */
  | { op: 'unprotect'; payload?: string; payloadFrom?: string; payloadText?: string; purposes?: string[]; at?: string }
  /** The Cookie header a browser returns after the real ChunkingCookieManager wrote the payload's base64url as cookie `name`. */
  | { op: 'chunkCookie'; name: string; payload?: string; payloadFrom?: string; chunkSize?: number }
  | { op: 'storeElement'; xml: string }
  | { op: 'createKey'; activationDate: string; expirationDate: string }
  | { op: 'revokeKey'; keyId: string; reason?: string }
  | { op: 'revokeAll'; revocationDate: string; reason?: string };

export interface AppSpec {
  name: string;
  blobSasUrl: string;
  applicationName?: string;
  /** false = DisableAutomaticKeyGeneration() (production consumers of a ringkeeper ring). */
  autoGenerateKeys: boolean;
  /** How ASP.NET Core protects keys it writes. */
  keyEncryption?: 'none' | 'rsa' | 'certificate';
  /** ProtectKeysWithAzureKeyVault(kid, resolver over this RSA key). */
  rsaPemFile?: string;
  /** ProtectKeysWithCertificate (keyEncryption certificate) or UnprotectKeysWithAnyCertificate. */
  certificatePfxFile?: string;
  steps: Step[];
}

export interface ErrorInfo {
  type: string;
  message: string;
  inner?: ErrorInfo;
}
export interface AspKey {
  id: string;
  creationDate: string;
  activationDate: string;
  expirationDate: string;
  revoked: boolean;
  usable: boolean;
  error?: ErrorInfo;
}
export interface StepResult {
  op: string;
  ok: boolean;
  error?: ErrorInfo;
  at?: string;
  kekUnwraps?: number;
  // status
  now?: string;
  keys?: AspKey[];
  defaultKey?: string | null;
  keyRingError?: ErrorInfo;
  resolver?: { defaultKey: string | null; fallbackKey: string | null; shouldGenerateNewKey: boolean };
  // protect / unprotect / createKey
  payload?: string;
  keyId?: string | null;
  text?: string;
  payloadText?: string;
  dataBase64?: string;
  // chunkCookie
  cookieHeader?: string;
  cookies?: number;
}
export interface AppResult {
  name: string;
  results: StepResult[];
  logs: string[];
  error?: ErrorInfo;
}
export interface AspEnv {
  runtime: string;
  dataProtection: string;
  azureCore: string;
  keyVaultFormat: string;
}

function spawnCollect(cmd: string, args: string[], input: string | Buffer | undefined, opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }) {
  return spawnBytes(cmd, args, input, opts).then((r) => ({ code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr }));
}

function spawnBytes(cmd: string, args: string[], input: string | Buffer | undefined, opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }) {
  return new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(input ?? '');
  });
}

/** Runs ASP.NET Core application instances (each a fresh service provider) in one dotnet process. */
export async function aspnet(apps: AppSpec[]): Promise<{ env: AspEnv; apps: AppResult[] }> {
  await ensureBuilt();
  const r = await spawnCollect('dotnet', [DLL, 'run'], JSON.stringify({ apps }), { cwd: DOTNET_DIR, env: dotnetEnv(), timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`RingkeeperInterop run exited ${r.code}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as { env: AspEnv; apps: AppResult[] };
}

/** One app, its step results; throws when the app could not even be configured. */
export async function aspnetApp(spec: AppSpec): Promise<StepResult[]> {
  const {
    apps: [app],
  } = await aspnet([spec]);
  if (app.error) throw new Error(`ASP.NET Core app ${spec.name} failed to start: ${app.error.type}: ${app.error.message}`);
  return app.results;
}

/** A self-signed RSA certificate (PFX, no password) made by .NET for ProtectKeysWithCertificate. */
export async function makeCertificate(dir: string): Promise<string> {
  await ensureBuilt();
  const file = path.join(dir, 'dp-cert.pfx');
  const r = await spawnCollect('dotnet', [DLL, 'cert', '--out', file], undefined, { cwd: DOTNET_DIR, env: dotnetEnv(), timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`RingkeeperInterop cert exited ${r.code}: ${r.stderr}`);
  return file;
}

// ---------------------------------------------------------------------------------------------
// ringkeeper side.

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any[];
}

/** `ringkeeper <args> --config <file>`; stdout parsed as JSON lines where it is JSON. */
export async function ringkeeper(configFile: string, ...args: string[]): Promise<CliResult> {
  await ensureBuilt();
  if (!existsSync(CLI_ENTRY)) throw new Error(`ringkeeper CLI not built: ${path.relative(ROOT, CLI_ENTRY)} is missing after tsc`);
  const r = await spawnCollect(process.execPath, [path.join(ROOT, 'bin', 'ringkeeper.js'), ...args, '--config', configFile], undefined, {
    cwd: path.dirname(configFile),
    env: cliEnv(),
    timeoutMs: 60_000,
  });
  const json: any[] = [];
  for (const line of r.stdout.split('\n')) {
    const t = line.trim();
    if (t.startsWith('{')) {
      try {
        json.push(JSON.parse(t));
      } catch {
        /* not JSON */
      }
    }
  }
  return { ...r, json };
}

function cliEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.RINGKEEPER_CONFIG;
  delete env.RINGKEEPER_CONFIG_JSON;
  return env;
}

/** `ringkeeper <args> --config <file>` with bytes on stdin and bytes back (protect/unprotect). */
export async function ringkeeperPipe(configFile: string, input: Buffer, ...args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  await ensureBuilt();
  return spawnBytes(process.execPath, [path.join(ROOT, 'bin', 'ringkeeper.js'), ...args, '--config', configFile], input, { cwd: path.dirname(configFile), env: cliEnv(), timeoutMs: 60_000 });
}

let commands: string | undefined;
/** Whether the built CLI lists a command in its usage (e.g. the payload commands, once they land). */
export async function ringkeeperHasCommand(name: string): Promise<boolean> {
  await ensureBuilt();
  if (commands === undefined) {
    const r = existsSync(CLI_ENTRY)
      ? await spawnCollect(process.execPath, [path.join(ROOT, 'bin', 'ringkeeper.js'), '--help'], undefined, { cwd: ROOT, env: cliEnv(), timeoutMs: 30_000 })
      : { stdout: '', stderr: '' };
    commands = r.stdout + r.stderr;
  }
  return new RegExp(`^\\s*ringkeeper ${name}\\b`, 'm').test(commands);
}

/** Like ringkeeper(), but exit 0 and one JSON object are required. */
export async function ringkeeperJson(configFile: string, ...args: string[]): Promise<any> {
  const r = await ringkeeper(configFile, ...args);
  // `status` exits 1 when the ring it shows is critical (#11): its one status line is still the answer.
  const criticalStatus = args[0] === 'status' && r.code === 1 && r.json.length === 1 && r.json[0].health === 'critical' && Array.isArray(r.json[0].keys);
  if ((r.code !== 0 && !criticalStatus) || r.json.length !== 1) {
    throw new Error(`ringkeeper ${args.join(' ')} exited ${r.code} with ${r.json.length} JSON line(s)\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r.json[0];
}

// ---------------------------------------------------------------------------------------------
// Rings in Azurite.

export type RingProtector = { type: 'rsa' } | { type: 'none' };

export interface Ring {
  name: string;
  dir: string;
  configFile: string;
  container: string;
  blob: string;
  /** PKCS#8 PEM of the ring's RSA key (the `rsa` protector's key; also given to ASP.NET Core); only for `rsa` rings. */
  pemFile: string;
  /** Read/write SAS URL of the ring's blob, for ASP.NET Core's blob repository. */
  sasUrl: string;
  upload(bytes: Buffer | string): Promise<void>;
  download(): Promise<Buffer>;
  remove(): Promise<void>;
}

/** A ring configured for ringkeeper (`rsa` or explicit `none`), with its container created. */
export async function newRing(prefix: string, protector: RingProtector = { type: 'rsa' }): Promise<Ring> {
  const { connectionString } = azurite();
  const dir = mkdtempSync(path.join(tmpdir(), `rk-interop-${prefix}-`));
  const container = uniqueName(prefix);
  const blob = 'keys.xml';
  const name = 'r1';
  const pemFile = path.join(dir, 'kek.pem');
  if (protector.type === 'rsa') {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(pemFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  }
  const config = {
    rings: [
      {
        name,
        storage: { connectionString },
        container,
        blob,
        protector: protector.type === 'rsa' ? { type: 'rsa', keyFile: pemFile } : { type: 'none', allowUnencrypted: true },
      },
    ],
  };
  const configFile = path.join(dir, 'ringkeeper.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  const service = BlobServiceClient.fromConnectionString(connectionString);
  const containerClient = service.getContainerClient(container);
  await containerClient.createIfNotExists();
  const blobClient = containerClient.getBlockBlobClient(blob);
  const sasUrl = await blobClient.generateSasUrl({
    permissions: BlobSASPermissions.parse('racwd'),
    expiresOn: new Date(Date.now() + 3 * 3600_000),
    protocol: SASProtocol.HttpsAndHttp,
  });
  return {
    name,
    dir,
    configFile,
    container,
    blob,
    pemFile,
    sasUrl,
    upload: async (bytes) => {
      const body = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
      await blobClient.upload(body, body.length, { blobHTTPHeaders: { blobContentType: 'application/xml; charset=utf-8' } });
    },
    download: async () => blobClient.downloadToBuffer(),
    remove: async () => {
      await blobClient.deleteIfExists();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/** Per-scenario budget: each scenario spawns dotnet and the CLI many times on a 2-core machine. */
export const SCENARIO_TIMEOUT = 120_000;

export const DAY = 86_400_000;
export const iso = (ms: number) => new Date(ms).toISOString();
/** Instants compared at millisecond precision (.NET keeps 100 ns ticks, JS Date keeps ms). */
export const ms = (s: string | null | undefined) => (s === null || s === undefined ? null : Date.parse(s));

/** The first step result of an op, failing loudly when the step failed unexpectedly. */
export function ok(r: StepResult): StepResult {
  if (!r.ok) throw new Error(`ASP.NET Core step ${r.op} failed: ${r.error?.type}: ${r.error?.message}`);
  return r;
}

/** Top-level child elements of the ring document, as their exact source text. */
export function topLevelElements(xml: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  const re = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<\/?[^>]+>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const tag = m[0];
    if (tag.startsWith('<!--') || tag.startsWith('<![CDATA[') || tag.startsWith('<?') || tag.startsWith('<!')) continue;
    const closing = tag.startsWith('</');
    const selfClosing = tag.endsWith('/>');
    if (closing) {
      depth--;
      if (depth === 1) out.push(xml.slice(start, m.index + tag.length));
    } else {
      if (depth === 1) start = m.index;
      if (selfClosing) {
        if (depth === 1) out.push(tag);
      } else depth++;
    }
  }
  return out;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `rk-interop-${prefix}-`));
}

import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DAY } from '../shared/keyring/dotnetDate';
import { keyXml, masterKeyXml } from '../shared/keyring/KeyXmlWriter';
import { purposeChain } from '../shared/keyring/payload/purposeChain';
import { RingDataProtector } from '../shared/keyring/RingDataProtector';
import { XML_DECLARATION } from '../shared/keyring/XmlConstants';

export interface PayloadBenchOptions {
  quick?: boolean;
  resultsFile?: string;
  log?: (line: string) => void;
}

interface Throughput {
  size: number;
  protectOpsPerSec: number;
  unprotectOpsPerSec: number;
}

interface SizeResult {
  size: number;
  ringkeeper: { protect: number; unprotect: number };
  aspnetcore: { protect: number; unprotect: number };
  /** ringkeeper ÷ ASP.NET Core: above 1 is faster. */
  ratio: { protect: number; unprotect: number };
}

const SIZES = [100, 1024, 64 * 1024];
const APP = 'bench';
const PURPOSES = ['Cookies', 'v1'];

/**
 * Protect/unprotect throughput of ringkeeper's RingDataProtector and of ASP.NET Core's own IDataProtector
 * (bench/dotnet/PayloadBench, the shared framework's KeyRingBasedDataProtector) over one key ring on disk:
 * same key, application name, purposes and plaintext sizes. Rounds alternate between the two so machine
 * noise hits both; each figure is the median of the rounds. Each side first unprotects the other's payload.
 */
export async function runPayloadBench(opts: PayloadBenchOptions): Promise<{ name: 'payload'; results: unknown; markdown: string }> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const quick = opts.quick ?? false;
  const rounds = quick ? 1 : 5;
  const seconds = quick ? 0.25 : 0.6;
  const root = path.resolve(__dirname, '..', ...(path.basename(path.resolve(__dirname, '..')) === 'dist' ? ['..'] : []));
  const dll = buildDotnetBench(root);

  // A ring of one unencrypted key, as FileSystemXmlRepository stores it (one element per file) and as a blob.
  const dir = mkdtempSync(path.join(tmpdir(), 'ringkeeper-bench-payload-'));
  try {
    const now = Date.now();
    const id = randomUUID();
    const key = keyXml(id, { creationDate: now - 10 * DAY, activationDate: now - 9 * DAY, expirationDate: now + 80 * DAY }, masterKeyXml(randomBytes(64)));
    writeFileSync(path.join(dir, `key-${id}.xml`), XML_DECLARATION + key);
    const ring = Buffer.from(`${XML_DECLARATION}<repository>${key}</repository>`);
    const protector = await RingDataProtector.open({
      name: 'bench',
      repository: { read: async () => ({ content: ring, etag: '"bench"' }) },
      protector: () => ({ unprotect: () => Promise.reject(new Error('the bench key is not encrypted')) }),
    });
    const purposes = purposeChain(APP, PURPOSES);

    // Cross-check before timing anything: each side reads the other's payload.
    const check = path.join(dir, 'ringkeeper.payload');
    writeFileSync(check, await protector.protect(purposes, Buffer.from('ringkeeper')));
    const loadBefore = loadavg()[0]!;
    const aspnetRuns: { check?: string; sample: string; results: Throughput[]; runtime: string; dataProtection: string }[] = [];
    const ringkeeperRuns: Throughput[][] = [];
    for (let round = 0; round < rounds; round++) {
      log(`payload bench: round ${round + 1}/${rounds}`);
      ringkeeperRuns.push(await measureRingkeeper(protector, purposes, seconds));
      aspnetRuns.push(runDotnetBench(dll, dir, check, seconds));
    }
    const first = aspnetRuns[0]!;
    if (first.check !== 'ringkeeper') throw new Error(`ASP.NET Core read the ringkeeper payload as ${JSON.stringify(first.check)}`);
    const back = (await protector.unprotect(Buffer.from(first.sample, 'base64'), purposes)).toString('utf8');
    if (back !== 'aspnetcore') throw new Error(`ringkeeper read the ASP.NET Core payload as ${JSON.stringify(back)}`);

    const results: SizeResult[] = SIZES.map((size, i) => {
      const rk = { protect: median(ringkeeperRuns.map((r) => r[i]!.protectOpsPerSec)), unprotect: median(ringkeeperRuns.map((r) => r[i]!.unprotectOpsPerSec)) };
      const asp = { protect: median(aspnetRuns.map((r) => r.results[i]!.protectOpsPerSec)), unprotect: median(aspnetRuns.map((r) => r.results[i]!.unprotectOpsPerSec)) };
      return { size, ringkeeper: rk, aspnetcore: asp, ratio: { protect: round2(rk.protect / asp.protect), unprotect: round2(rk.unprotect / asp.unprotect) } };
    });
    const output = {
      generatedAt: new Date().toISOString(),
      quick,
      node: process.version,
      dotnet: first.runtime,
      dataProtection: first.dataProtection,
      cpus: cpus().length,
      /** 1-minute load average before and after: the machine is shared, so read the figures against it. */
      loadAverage: { before: round2(loadBefore), after: round2(loadavg()[0]!) },
      rounds,
      secondsPerMeasure: seconds,
      applicationName: APP,
      purposes: PURPOSES,
      results,
    };
    const resultsFile = opts.resultsFile ?? path.join(root, 'bench', 'results', 'payload.json');
    if (!quick) {
      mkdirSync(path.dirname(resultsFile), { recursive: true });
      writeFileSync(resultsFile, `${JSON.stringify(output, null, 2)}\n`);
    }
    return { name: 'payload', results: output, markdown: payloadMarkdown(output) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Same loop shape as PayloadBench: a fifth of the budget warms up, then operations are counted. */
async function measureRingkeeper(protector: RingDataProtector, purposes: string[], seconds: number): Promise<Throughput[]> {
  const out: Throughput[] = [];
  for (const size of SIZES) {
    const plaintext = randomBytes(size);
    const payload = await protector.protect(purposes, plaintext);
    out.push({
      size,
      protectOpsPerSec: await opsPerSecond(() => protector.protect(purposes, plaintext), seconds),
      unprotectOpsPerSec: await opsPerSecond(() => protector.unprotect(payload, purposes), seconds),
    });
  }
  return out;
}

async function opsPerSecond(op: () => Promise<unknown>, seconds: number): Promise<number> {
  const warmUntil = performance.now() + (seconds * 1000) / 5;
  while (performance.now() < warmUntil) await op();
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < 16; i++) await op();
    ops += 16;
  }
  return Math.round((ops / ((performance.now() - start) / 1000)) * 10) / 10;
}

function buildDotnetBench(root: string): string {
  const project = path.join(root, 'bench', 'dotnet', 'PayloadBench');
  const r = spawnSync('dotnet', ['build', project, '-c', 'Release', '-nologo', '-v', 'q', '-nodeReuse:false', '-p:UseSharedCompilation=false'], {
    encoding: 'utf8',
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1', MSBUILDDISABLENODEREUSE: '1' },
  });
  if (r.error || r.status !== 0)
    throw new Error(`the payload bench needs the .NET SDK 10: dotnet build ${path.relative(root, project)} failed: ${r.error?.message ?? `${r.stdout}\n${r.stderr}`.slice(-3000)}`);
  return path.join(project, 'bin', 'Release', 'net10.0', 'PayloadBench.dll');
}

function runDotnetBench(dll: string, keys: string, check: string, seconds: number) {
  const args = [dll, '--keys', keys, '--app', APP, ...PURPOSES.flatMap((p) => ['--purpose', p]), '--sizes', SIZES.join(','), '--seconds', String(seconds), '--unprotect', check];
  const r = spawnSync('dotnet', args, { encoding: 'utf8', env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' }, timeout: 300_000 });
  if (r.error || r.status !== 0) throw new Error(`PayloadBench failed (exit ${r.status}): ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout) as { check?: string; sample: string; results: Throughput[]; runtime: string; dataProtection: string };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function payloadMarkdown(o: {
  rounds: number;
  secondsPerMeasure: number;
  node: string;
  dotnet: string;
  dataProtection: string;
  cpus: number;
  loadAverage: { before: number; after: number };
  results: SizeResult[];
}): string {
  const size = (n: number) => (n >= 1024 ? `${n / 1024} KiB` : `${n} B`);
  const ops = (n: number) => Math.round(n).toLocaleString('en-US');
  const rows = o.results.map(
    (r) =>
      `| ${size(r.size)} | ${ops(r.ringkeeper.protect)} | ${ops(r.aspnetcore.protect)} | ${r.ratio.protect.toFixed(2)} | ${ops(r.ringkeeper.unprotect)} | ${ops(r.aspnetcore.unprotect)} | ${r.ratio.unprotect.toFixed(2)} |`,
  );
  return [
    `Operations per second, one thread, median of ${o.rounds} alternating rounds of ${o.secondsPerMeasure} s per cell; Node ${o.node}, .NET ${o.dotnet} (Data Protection ${o.dataProtection}); ` +
      `${o.cpus} cores, 1-minute load average ${o.loadAverage.before} before and ${o.loadAverage.after} after. Ratio = ringkeeper ÷ ASP.NET Core (above 1: ringkeeper is faster).`,
    '',
    '| plaintext | ringkeeper protect | ASP.NET Core protect | ratio | ringkeeper unprotect | ASP.NET Core unprotect | ratio |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
